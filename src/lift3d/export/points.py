"""Point cloud writers: PLY and PCD through Open3D, XYZ text; atomic."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lift3d.errors import InputError
from lift3d.io.atomic import atomic_path
from lift3d.io.points import POINT_EXTENSIONS


def save_points(path: str | os.PathLike, points: np.ndarray, normals: np.ndarray | None = None,
                colors: np.ndarray | None = None) -> Path:
    """Write points ``(N, 3)`` (+ normals ``(N, 3)``, colours ``(N, 3)`` in [0, 1]) as PLY, PCD or XYZ."""
    p = Path(path)
    ext = p.suffix.lower()
    pts = np.asarray(points, np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3 or len(pts) == 0:
        raise InputError(f"expected a non-empty (N, 3) point array, got {pts.shape}")
    if ext == ".xyz":
        cols = pts if normals is None else np.hstack([pts, np.asarray(normals, np.float64)])
        with atomic_path(p) as tmp:
            np.savetxt(tmp, cols, fmt="%.7g")
        return p
    if ext not in POINT_EXTENSIONS:
        raise InputError(f"unknown point cloud format {ext!r} for {p}; use one of {', '.join(POINT_EXTENSIONS)}")
    import open3d as o3d

    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts))
    if normals is not None:
        pcd.normals = o3d.utility.Vector3dVector(np.asarray(normals, np.float64))
    if colors is not None:
        pcd.colors = o3d.utility.Vector3dVector(np.asarray(colors, np.float64))
    with atomic_path(p) as tmp:
        if not o3d.io.write_point_cloud(str(tmp), pcd, write_ascii=False):
            raise InputError(f"Open3D could not write {p}")
    return p
