"""Open3D interop: lift3d meshes, point clouds and voxel grids to and from ``open3d.geometry`` / ``open3d.t.geometry``.

Two functions are the public API::

    geom = to_open3d(obj, tensor=False)    # trimesh.Trimesh | points | VoxelGrid -> Open3D geometry
    obj = from_open3d(geom)                # Open3D geometry -> trimesh.Trimesh | points tuple | VoxelGrid

The lift3d side is what :func:`lift3d.io.read_any` returns and :func:`lift3d.io.write_any` takes: a
``trimesh.Trimesh``; points ``(N, 3)`` or a ``(points, normals | None, colors | None)`` tuple (``from_open3d`` returns
the tuple, float32); a :class:`lift3d.io.voxels.VoxelGrid`. What each conversion keeps is in
:mod:`lift3d.interop.meshes` and :mod:`lift3d.interop.clouds`. Open3D is imported only when a conversion runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lift3d.errors import InputError

__all__ = ["from_open3d", "to_open3d"]


def to_open3d(obj: Any, tensor: bool = False) -> Any:
    """A lift3d object -> an Open3D geometry (legacy ``open3d.geometry`` or, with ``tensor``, ``open3d.t.geometry``).

    ``trimesh.Trimesh`` -> ``TriangleMesh``; points ``(N, 3)``, a ``(points, normals, colors)`` tuple or a
    ``trimesh.PointCloud`` -> ``PointCloud``; :class:`~lift3d.io.voxels.VoxelGrid` -> ``VoxelGrid`` (legacy only:
    Open3D has no tensor voxel grid). Anything else raises :class:`InputError`.
    """
    import trimesh

    from lift3d.interop import clouds, meshes
    from lift3d.io.voxels import VoxelGrid

    if isinstance(obj, trimesh.Trimesh):
        return meshes.mesh_to_tensor(obj) if tensor else meshes.mesh_to_legacy(obj)
    if isinstance(obj, VoxelGrid):
        if tensor:
            raise InputError("Open3D has no tensor voxel grid: use to_open3d(grid) for open3d.geometry.VoxelGrid")
        return clouds.voxels_to_legacy(obj)
    if isinstance(obj, tuple | trimesh.PointCloud) or (isinstance(obj, np.ndarray) and obj.ndim == 2):
        return clouds.points_to_tensor(obj) if tensor else clouds.points_to_legacy(obj)
    raise InputError(f"cannot convert a {type(obj).__name__} to Open3D: give a trimesh.Trimesh, points (N, 3) or "
                     "(points, normals, colors), or a VoxelGrid")


def from_open3d(geom: Any, resolution: int | None = None) -> Any:
    """An Open3D geometry -> a lift3d object: ``TriangleMesh`` (legacy or tensor) -> ``trimesh.Trimesh``;
    ``PointCloud`` -> ``(points (N, 3), normals | None, colors | None)`` float32; ``VoxelGrid`` ->
    :class:`~lift3d.io.voxels.VoxelGrid` (``resolution^3`` cells when given, else just enough for the occupied ones).
    """
    import open3d as o3d

    from lift3d.interop import clouds, meshes

    if isinstance(geom, o3d.geometry.TriangleMesh):
        return meshes.mesh_from_legacy(geom)
    if isinstance(geom, o3d.t.geometry.TriangleMesh):
        return meshes.mesh_from_tensor(geom)
    if isinstance(geom, o3d.geometry.PointCloud):
        return clouds.points_from_legacy(geom)
    if isinstance(geom, o3d.t.geometry.PointCloud):
        return clouds.points_from_tensor(geom)
    if isinstance(geom, o3d.geometry.VoxelGrid):
        return clouds.voxels_from_legacy(geom, resolution)
    raise InputError(f"cannot convert an Open3D {type(geom).__name__} to lift3d: give a TriangleMesh, PointCloud "
                     "or VoxelGrid")
