"""Write a :class:`~lift3d.reconstruct.pipeline.Reconstruction` to a file chosen by its extension."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lift3d.errors import InputError
from lift3d.reconstruct.pipeline import Reconstruction

MESH_EXTENSIONS = (".glb", ".gltf", ".obj", ".ply", ".stl", ".off")
VOXEL_EXTENSIONS = (".binvox", ".npz")
POINT_EXTENSIONS = (".pcd", ".xyz")
OUTPUT_EXTENSIONS = MESH_EXTENSIONS + VOXEL_EXTENSIONS + POINT_EXTENSIONS


def check_output_path(path: str | os.PathLike) -> Path:
    """Validate an output path's extension before any work is done."""
    p = Path(path)
    if p.suffix.lower() not in OUTPUT_EXTENSIONS:
        raise InputError(
            f"unsupported output extension {p.suffix or '(none)'!r} for {p}; use one of {', '.join(OUTPUT_EXTENSIONS)}"
        )
    return p


def write_reconstruction(rec: Reconstruction, path: str | os.PathLike, points: int = 16384,
                         color: tuple[int, int, int, int] | None = None) -> Path:
    """Write voxels (``.binvox``/``.npz``), a point cloud (``.pcd``/``.xyz``) or a mesh (other extensions).

    The mesh gets a uniform vertex colour ``color`` (RGBA uint8) when given. Writes are atomic.
    """
    p = check_output_path(path)
    ext = p.suffix.lower()
    if ext in VOXEL_EXTENSIONS:
        from lift3d.io.voxels import VoxelGrid, save_voxels

        grid = VoxelGrid(occupancy=rec.occupancy, translate=np.full(3, -0.5), scale=1.0)
        save_voxels(p, grid)
        return p
    if rec.mesh is None:
        raise InputError(
            f"nothing was reconstructed: no voxel reaches the threshold {rec.threshold:.2f} "
            f"(max probability {float(rec.probabilities.max()):.2f}); try a lower --threshold"
        )
    if ext in POINT_EXTENSIONS:
        from lift3d.export.points import save_points
        from lift3d.geometry.sampling import sample_surface

        pts, normals = sample_surface(rec.mesh, points, seed=0)
        save_points(p, pts, normals=normals)
        return p
    from lift3d.export.meshes import save_mesh

    mesh = rec.mesh.copy()
    if color is not None:
        mesh.visual.vertex_colors = np.tile(np.asarray(color, np.uint8), (len(mesh.vertices), 1))
    save_mesh(mesh, p)
    return p


def object_color(image_rgba: np.ndarray, mask: np.ndarray | None = None) -> tuple[int, int, int, int]:
    """Median foreground colour of an input view ``(H, W, 4)`` as RGBA uint8 (a plain mesh tint)."""
    from lift3d.data.preprocess import foreground_mask

    m = foreground_mask(image_rgba) if mask is None else mask
    rgb = np.median(image_rgba[..., :3][m], axis=0)
    return int(rgb[0]), int(rgb[1]), int(rgb[2]), 255
