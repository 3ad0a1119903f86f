"""Normalisation of meshes and point sets into the canonical object frame.

Canonical frame (see ``shared/DESIGN.md``): the axis-aligned bounding box is centred at the origin and
its longest side has length ``extent`` (default 1, so the object fits [-0.5, 0.5]^3); +Y is up.
"""

from __future__ import annotations

import numpy as np
import trimesh

from lift3d.errors import InputError

# Rotations that bring a given "up" axis onto +Y (right-handed, det = +1).
_UP_TO_Y = {
    "+y": np.eye(3),
    "-y": np.diag([1.0, -1.0, -1.0]),
    "+z": np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]),  # z -> y, y -> -z
    "-z": np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]),
    "+x": np.array([[0.0, 1, 0], [-1, 0, 0], [0, 0, 1]]),  # x -> y
    "-x": np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]]),
}


def up_axis_rotation(up: str) -> np.ndarray:
    """Rotation matrix ``(3, 3)`` taking the axis named ``up`` (``"+z"``, ``"-y"``...) to +Y."""
    try:
        return _UP_TO_Y[up.lower()].copy()
    except KeyError as exc:
        raise InputError(f"unknown up axis {up!r}; use one of {sorted(_UP_TO_Y)}") from exc


def normalization_transform(points: np.ndarray, extent: float = 1.0) -> tuple[np.ndarray, float]:
    """Centre and scale mapping ``p -> (p - centre) * scale`` for points ``(N, 3)``.

    Returns ``(centre (3,), scale)`` so that the bounding box is centred and its longest side is ``extent``.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3 or len(pts) == 0:
        raise InputError("cannot normalise an empty point set")
    if not np.isfinite(pts).all():
        raise InputError("geometry contains NaN or infinite coordinates")
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    size = float((hi - lo).max())
    if size <= 0:
        raise InputError("geometry is degenerate (zero size)")
    return (lo + hi) / 2.0, extent / size


def normalize_points(points: np.ndarray, extent: float = 1.0) -> np.ndarray:
    """Points ``(N, 3)`` -> the same points in the canonical frame ``(N, 3)`` float32."""
    centre, scale = normalization_transform(points, extent)
    return ((np.asarray(points, dtype=np.float64) - centre) * scale).astype(np.float32)


def normalize_mesh(mesh: trimesh.Trimesh, up: str = "+y", extent: float = 1.0) -> trimesh.Trimesh:
    """Return a copy of ``mesh`` rotated so ``up`` becomes +Y, centred and scaled to fit the unit cube."""
    if mesh is None or len(mesh.vertices) == 0 or len(mesh.faces) == 0:
        raise InputError("mesh is empty (no vertices or no faces)")
    out = mesh.copy()
    rot = up_axis_rotation(up)
    verts = np.asarray(out.vertices, dtype=np.float64) @ rot.T
    centre, scale = normalization_transform(verts, extent)
    out.vertices = (verts - centre) * scale
    return out
