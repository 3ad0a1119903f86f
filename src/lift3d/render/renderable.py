"""Anything lift3d reads, as a mesh the renderer draws: meshes as they are, points as small spheres, voxels as cubes.

* Points ``(N, 3)`` become splats: a small icosahedron per point (20 faces), in
  the point's colour when the cloud has colours. The radius is 0.6 x the median nearest-neighbour distance (so a
  dense cloud reads as a surface and a sparse one as dots), kept within 0.1 % .. 2 % of the bounding box diagonal.
  Clouds over :data:`SPLAT_LIMIT` points are thinned to that many (a fixed random subset: the same file gives the
  same picture).
* Voxel grids become one cube per occupied cell on the grid's surface (cells with an empty 6-neighbour; inner cells
  cannot be seen), placed by the grid's ``translate`` and ``scale``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import trimesh

from lift3d.errors import InputError

SPLAT_LIMIT = 200_000


def _tile(base: trimesh.Trimesh, centres: np.ndarray, scale) -> tuple[np.ndarray, np.ndarray]:
    """One copy of ``base`` (scaled by ``scale``) at each of ``centres (N, 3)`` -> vertices ``(N*v, 3)``, faces
    ``(N*f, 3)``."""
    nv = len(base.vertices)
    verts = (centres[:, None, :] + np.asarray(base.vertices)[None] * scale).reshape(-1, 3)
    faces = (np.asarray(base.faces)[None] + nv * np.arange(len(centres))[:, None, None]).reshape(-1, 3)
    return verts, faces


def splat_radius(points: np.ndarray) -> float:
    """Splat radius for points ``(N, 3)`` (see the module notes)."""
    from scipy.spatial import cKDTree

    diag = float(np.linalg.norm(points.max(axis=0) - points.min(axis=0))) or 1.0
    if len(points) < 2:
        return 0.02 * diag
    dist, _ = cKDTree(points).query(points, k=2)
    return float(np.clip(0.6 * np.median(dist[:, 1]), 1e-3 * diag, 2e-2 * diag))


def points_mesh(points: np.ndarray, colors: np.ndarray | None = None, radius: float | None = None,
                limit: int = SPLAT_LIMIT) -> trimesh.Trimesh:
    """Points ``(N, 3)`` with optional colours ``(N, 3)`` in [0, 1] -> a mesh of splats (20 faces per point)."""
    pts = np.asarray(points, np.float64).reshape(-1, 3)
    if len(pts) == 0:
        raise InputError("the point cloud is empty: nothing to render")
    cols = None if colors is None else np.asarray(colors, np.float64).reshape(-1, 3)
    if len(pts) > limit:
        keep = np.sort(np.random.default_rng(0).choice(len(pts), limit, replace=False))
        pts, cols = pts[keep], None if cols is None else cols[keep]
    r = splat_radius(pts) if radius is None else float(radius)
    ico = trimesh.creation.icosahedron()
    verts, faces = _tile(ico, pts, r)
    mesh = trimesh.Trimesh(verts, faces, process=False)
    if cols is not None:
        rgb = np.round(np.clip(cols, 0, 1) * 255).astype(np.uint8)
        mesh.visual = trimesh.visual.ColorVisuals(mesh, face_colors=np.repeat(rgb, len(ico.faces), axis=0))
    return mesh


def voxels_mesh(grid: Any) -> trimesh.Trimesh:
    """A :class:`~lift3d.io.voxels.VoxelGrid` -> a mesh of cubes for its surface cells (12 faces per cell)."""
    from scipy import ndimage

    occ = np.asarray(grid.occupancy, bool)
    if not occ.any():
        raise InputError("the voxel grid is empty (no occupied cell): nothing to render")
    surface = occ & ~ndimage.binary_erosion(occ, border_value=0)
    cell = grid.scale / np.asarray(occ.shape, np.float64)
    centres = grid.translate + (np.argwhere(surface) + 0.5) * cell
    verts, faces = _tile(trimesh.creation.box(), centres, cell)
    return trimesh.Trimesh(verts, faces, process=False)


def as_render_mesh(kind: str, obj: Any, name: str = "the input") -> trimesh.Trimesh:
    """What :func:`lift3d.io.read_any` returned -> a mesh to render (``mesh``, ``points``, ``voxels``); an image
    raises :class:`InputError`."""
    if kind == "mesh":
        return obj
    if kind == "points":
        return points_mesh(obj[0], obj[2])
    if kind == "voxels":
        return voxels_mesh(obj)
    raise InputError(f"{name} is an image, not a 3D model; `lift3d reconstruct` makes one from images")
