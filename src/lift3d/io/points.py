"""Point cloud reading: PLY and PCD through Open3D, XYZ text (x y z [nx ny nz])."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lift3d.errors import FormatError, InputError

POINT_EXTENSIONS = (".ply", ".pcd", ".xyz")


def load_points(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Read points ``(N, 3)`` float32 with optional normals ``(N, 3)`` and colours ``(N, 3)`` in [0, 1]."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {p}")
    ext = p.suffix.lower()
    if ext == ".xyz":
        try:
            arr = np.loadtxt(p, dtype=np.float64, ndmin=2)
        except ValueError as exc:
            raise FormatError(f"{p} is not an XYZ point file: {exc}") from exc
        if arr.shape[1] not in (3, 6) or len(arr) == 0:
            raise FormatError(f"{p}: expected 3 or 6 numbers per line, got {arr.shape[1]}")
        pts, normals, colors = arr[:, :3], (arr[:, 3:6] if arr.shape[1] == 6 else None), None
    elif ext in (".ply", ".pcd"):
        import open3d as o3d

        pcd = o3d.io.read_point_cloud(str(p), format="auto")
        pts = np.asarray(pcd.points)
        if len(pts) == 0:
            raise FormatError(f"{p} contains no points (empty or not a point cloud)")
        normals = np.asarray(pcd.normals) if pcd.has_normals() else None
        colors = np.asarray(pcd.colors) if pcd.has_colors() else None
    else:
        raise InputError(f"unknown point cloud format {ext!r} for {p}; use one of {', '.join(POINT_EXTENSIONS)}")
    if not np.isfinite(pts).all():
        raise FormatError(f"{p} has NaN or infinite coordinates")
    as32 = (lambda a: None if a is None else np.asarray(a, np.float32))  # noqa: E731
    return as32(pts), as32(normals), as32(colors)
