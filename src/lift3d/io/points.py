"""Point cloud files: PLY and PCD through Open3D, XYZ text (``x y z [nx ny nz]``).

``.ply`` is registered here for both kinds it holds: a mesh (read and written by :mod:`lift3d.io.meshes`) or a
point cloud; a file is sniffed for faces when read, and written by what the data is.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from lift3d import limits
from lift3d.errors import FormatError, InputError
from lift3d.io.atomic import Target, atomic_output, is_stream, write_output
from lift3d.io.checks import check_header, ply_header
from lift3d.io.formats import FORMATS, FileFormat, extensions, target_ext
from lift3d.io.meshes import load_mesh, save_mesh


def load_points(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Read points ``(N, 3)`` float32 with optional normals ``(N, 3)`` and colours ``(N, 3)`` in [0, 1]."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {p}")
    ext = p.suffix.lower()
    check_header(p, "points")
    if ext == ".xyz":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "input contained no data": refused below
                arr = np.loadtxt(p, dtype=np.float64, ndmin=2, max_rows=int(limits.POINTS.value) + 1)
        except ValueError as exc:
            raise FormatError(f"{p} is not an XYZ point file: {exc}") from exc
        if len(arr) == 0:
            raise FormatError(f"{p} contains no points")
        limits.POINTS.check(len(arr), str(p), FormatError)  # stopped reading one row past the limit
        if arr.shape[1] not in (3, 6):
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
        known = extensions("points", readable=True)
        raise InputError(f"unknown point cloud format {ext!r} for {p}; use one of {', '.join(known)}")
    limits.POINTS.check(len(pts), str(p), FormatError)
    limits.check_coordinates(pts, str(p), FormatError)
    as32 = (lambda a: None if a is None else np.asarray(a, np.float32))  # noqa: E731
    return as32(pts), as32(normals), as32(colors)


def save_points(target: Target, points: np.ndarray, normals: np.ndarray | None = None,
                colors: np.ndarray | None = None, fmt: str | None = None) -> Path | None:
    """Write points ``(N, 3)`` (+ normals ``(N, 3)``, colours ``(N, 3)`` in [0, 1]) as PLY, PCD or XYZ.

    ``target`` is a path (written atomically; returned) or a binary file object (``fmt`` required; returns None;
    PLY/PCD go through a temporary file there, because Open3D writes only to named files). XYZ keeps no colours.
    """
    ext = target_ext(target, fmt)
    pts = np.asarray(points, np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3 or len(pts) == 0:
        raise InputError(f"expected a non-empty (N, 3) point array, got {pts.shape}")
    name = "<stream>" if is_stream(target) else Path(target)  # type: ignore[arg-type]
    if ext == ".xyz":
        cols = pts if normals is None else np.hstack([pts, np.asarray(normals, np.float64)])
        buf = io.BytesIO()
        np.savetxt(buf, cols, fmt="%.7g")
        write_output(target, buf.getvalue())
        return None if is_stream(target) else Path(target)  # type: ignore[arg-type]
    known = extensions("points", writable=True)
    if ext not in known:
        raise InputError(f"unknown point cloud format {ext!r} for {name}; use one of {', '.join(known)}")
    import open3d as o3d

    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts))
    if normals is not None:
        pcd.normals = o3d.utility.Vector3dVector(np.asarray(normals, np.float64))
    if colors is not None:
        pcd.colors = o3d.utility.Vector3dVector(np.asarray(colors, np.float64))
    with atomic_output(target, ext) as tmp:
        if not o3d.io.write_point_cloud(str(tmp), pcd, write_ascii=False):
            raise InputError(f"Open3D could not write {name}")
    return None if is_stream(target) else Path(target)  # type: ignore[arg-type]


def _write_points(data: Any, target: Target, ext: str) -> None:
    """Table writer: ``data`` is points ``(N, 3)`` or a ``(points, normals, colors)`` tuple (shorter tuples too)."""
    pts, normals, colors = (tuple(data) + (None, None))[:3] if isinstance(data, tuple) else (data, None, None)
    save_points(target, pts, normals, colors, fmt=ext)


def ply_kind(path: str | os.PathLike) -> str:
    """``mesh`` when a PLY file's header declares faces, else ``points`` (:class:`FormatError` for a bad header)."""
    _, elements, _ = ply_header(Path(path))
    return "mesh" if any(name == "face" and n > 0 for name, n, _ in elements) else "points"


FORMATS.register(".ply", FileFormat("Stanford PLY mesh or point cloud", sniff=ply_kind,
                                    readers={"mesh": load_mesh, "points": load_points},
                                    writers={"mesh": save_mesh, "points": _write_points}))
for _ext, _desc in ((".pcd", "PCL point cloud"), (".xyz", "XYZ text points (+ normals)")):
    FORMATS.register(_ext, FileFormat(_desc, readers={"points": load_points}, writers={"points": _write_points}))
