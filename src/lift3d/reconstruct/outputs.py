"""Write a :class:`~lift3d.reconstruct.pipeline.Reconstruction` to a file chosen by its extension."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lift3d.errors import InputError
from lift3d.io import kind_of, write_any
from lift3d.reconstruct.pipeline import Reconstruction


def write_reconstruction(rec: Reconstruction, path: str | os.PathLike, points: int = 16384,
                         color: tuple[int, int, int, int] | None = None) -> Path:
    """Write what the extension's format holds (:func:`lift3d.io.kind_of`): voxels (``.binvox``/``.npz``), a point
    cloud of ``points`` surface samples (``.pcd``/``.xyz``) or the mesh (``.glb``, ``.ply``... ).

    The mesh gets a uniform vertex colour ``color`` (RGBA uint8) when given. Writes are atomic.
    """
    p = Path(path)
    kind = kind_of(p, for_output=True)  # validates the extension before any work
    if kind == "voxels":
        from lift3d.io.voxels import VoxelGrid

        return write_any(VoxelGrid(occupancy=rec.occupancy, translate=np.full(3, -0.5), scale=1.0), p)
    if rec.mesh is None:
        raise InputError(
            f"nothing was reconstructed: no voxel reaches the threshold {rec.threshold:.2f} "
            f"(max probability {float(rec.probabilities.max()):.2f}); try a lower --threshold"
        )
    if kind == "points":
        from lift3d.geometry.sampling import sample_surface

        return write_any(sample_surface(rec.mesh, points, seed=0), p)
    mesh = rec.mesh.copy()
    if color is not None:
        mesh.visual.vertex_colors = np.tile(np.asarray(color, np.uint8), (len(mesh.vertices), 1))
    return write_any(mesh, p)


def object_color(image_rgba: np.ndarray, mask: np.ndarray | None = None) -> tuple[int, int, int, int]:
    """Median foreground colour of an input view ``(H, W, 4)`` as RGBA uint8 (a plain mesh tint)."""
    from lift3d.data.preprocess import foreground_mask

    m = foreground_mask(image_rgba) if mask is None else mask
    rgb = np.median(image_rgba[..., :3][m], axis=0)
    return int(rgb[0]), int(rgb[1]), int(rgb[2]), 255
