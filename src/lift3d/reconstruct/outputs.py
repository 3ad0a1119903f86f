"""Write a :class:`~lift3d.reconstruct.pipeline.Reconstruction` to a file chosen by its extension."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

from lift3d.errors import InputError
from lift3d.io import kind_of, write_any
from lift3d.io.atomic import Target
from lift3d.io.formats import target_ext
from lift3d.reconstruct.pipeline import Reconstruction


def write_reconstruction(rec: Reconstruction, target: Target, points: int = 16384,
                         color: tuple[int, int, int, int] | None = None, mesh: trimesh.Trimesh | None = None,
                         fmt: str | None = None) -> Path | None:
    """Write what the format holds (:func:`lift3d.io.kind_of`): voxels (``.binvox``/``.npz``), a point cloud
    (``.pcd``/``.xyz``: a point model's own points, else ``points`` surface samples) or the mesh (``.glb``,
    ``.ply``... ). What each kind is made of comes from the model's task.

    ``target`` is a path (the extension names the format; written atomically) or a binary stream (``fmt``
    required, e.g. ``".glb"``). ``mesh`` replaces the reconstruction's mesh in mesh files (a textured, placed
    copy from :mod:`lift3d.reconstruct.assets`); ``color`` (RGBA uint8) paints it one colour instead.
    """
    ext = target_ext(target, fmt)
    kind = kind_of(Path("model" + ext), for_output=True)  # validates the extension before any work
    if kind == "voxels":
        from lift3d.io.voxels import VoxelGrid

        occ = rec.occupancy
        return write_any(VoxelGrid(occupancy=occ, translate=np.full(3, -0.5), scale=1.0), target, ext)
    if kind == "points" and rec.prediction.points is not None:
        return write_any(rec.points(points), target, ext)  # a point model's own points, mesh or not
    if rec.mesh is None:
        raise InputError(rec.empty_message())
    if kind == "points":
        return write_any(rec.points(points), target, ext)
    mesh = rec.mesh.copy() if mesh is None else mesh
    if color is not None:
        mesh = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
        mesh.visual.vertex_colors = np.tile(np.asarray(color, np.uint8), (len(mesh.vertices), 1))
    return write_any(mesh, target, ext)


def object_color(image_rgba: np.ndarray, mask: np.ndarray | None = None) -> tuple[int, int, int, int]:
    """Median foreground colour of an input view ``(H, W, 4)`` as RGBA uint8 (a plain mesh tint)."""
    from lift3d.data.preprocess import foreground_mask

    m = foreground_mask(image_rgba) if mask is None else mask
    rgb = np.median(image_rgba[..., :3][m], axis=0)
    return int(rgb[0]), int(rgb[1]), int(rgb[2]), 255
