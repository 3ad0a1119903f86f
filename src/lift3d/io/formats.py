"""Read and write any supported file by its extension: meshes, point clouds, voxel grids."""

from __future__ import annotations

import os
from pathlib import Path

from lift3d.errors import InputError
from lift3d.io.meshes import MESH_EXTENSIONS
from lift3d.io.points import POINT_EXTENSIONS

VOXEL_EXTENSIONS = (".binvox", ".npz")
# .ply is both a mesh and a point format: read as a mesh when it has faces, otherwise as points.


def kind_of(path: str | os.PathLike, for_output: bool = False) -> str:
    """``mesh`` | ``points`` | ``voxels`` from the extension (``.ply`` input: sniffed for faces)."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext in VOXEL_EXTENSIONS:
        return "voxels"
    if ext in (".pcd", ".xyz"):
        return "points"
    if ext == ".ply" and not for_output and p.is_file() and not _ply_has_faces(p):
        return "points"
    if ext in MESH_EXTENSIONS:
        return "mesh"
    known = sorted(set(MESH_EXTENSIONS + POINT_EXTENSIONS + VOXEL_EXTENSIONS))
    raise InputError(f"unknown file format {ext or '(none)'!r} for {p}; supported: {', '.join(known)}")


def _ply_has_faces(path: Path) -> bool:
    head = path.read_bytes()[:4096]
    end = head.find(b"end_header")
    for line in head[: end if end > 0 else len(head)].decode("latin-1").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "element" and parts[1] == "face":
            return int(parts[2]) > 0
    return False


def read_any(path: str | os.PathLike):
    """-> ``(kind, obj)``: a trimesh, ``(points, normals, colors)`` or a :class:`~lift3d.io.voxels.VoxelGrid`."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {p}")
    kind = kind_of(p)
    if kind == "mesh":
        from lift3d.io.meshes import load_mesh

        return kind, load_mesh(p)
    if kind == "points":
        from lift3d.io.points import load_points

        return kind, load_points(p)
    from lift3d.io.voxels import load_voxels

    return kind, load_voxels(p)


def write_any(obj, path: str | os.PathLike) -> Path:
    """Write ``obj`` in the format named by ``path``'s extension, atomically; returns the path.

    ``obj`` may be a ``trimesh.Trimesh`` (mesh formats), points ``(N, 3)`` or a tuple ``(points, normals|None,
    colors|None)`` as :func:`read_any` returns (point formats), or a :class:`~lift3d.io.voxels.VoxelGrid` or an
    occupancy array ``(D, D, D)`` (voxel formats). No conversion between kinds happens here (``lift3d convert``
    does that): a mismatch raises :class:`InputError`.
    """
    import numpy as np
    import trimesh

    from lift3d.io.voxels import VoxelGrid

    p = Path(path)
    kind = kind_of(p, for_output=True)
    if isinstance(obj, trimesh.Trimesh):
        have = "mesh"
    elif isinstance(obj, VoxelGrid) or (isinstance(obj, np.ndarray) and obj.ndim == 3):
        have = "voxels"
    elif isinstance(obj, tuple) or (isinstance(obj, np.ndarray) and obj.ndim == 2):
        have = "points"
    else:
        raise InputError(f"cannot write a {type(obj).__name__} to {p}")
    if p.suffix.lower() == ".ply" and have in ("mesh", "points"):
        kind = have  # .ply holds both meshes and point clouds
    if have != kind:
        raise InputError(f"{p.suffix} is a {kind} format but the data is a {have}; use `lift3d convert` to convert")
    if kind == "mesh":
        from lift3d.export.meshes import save_mesh

        return save_mesh(obj, p)
    if kind == "points":
        from lift3d.export.points import save_points

        pts, normals, colors = (tuple(obj) + (None, None))[:3] if isinstance(obj, tuple) else (obj, None, None)
        return save_points(p, pts, normals, colors)
    from lift3d.io.voxels import save_voxels

    save_voxels(p, obj)
    return p
