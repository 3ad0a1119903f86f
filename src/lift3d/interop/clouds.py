"""lift3d point clouds and voxel grids <-> Open3D.

* Points: lift3d's representation is :func:`lift3d.io.read_any`'s tuple ``(points (N, 3), normals (N, 3) | None,
  colors (N, 3) in [0, 1] | None)``, float32. Legacy ``PointCloud`` holds float64 (exact), tensor ``PointCloud``
  Float32 ``point.positions`` / ``normals`` / ``colors``.
* Voxels: :class:`lift3d.io.voxels.VoxelGrid` (occupancy ``(D, D, D)`` indexed ``[x, y, z]`` over ``translate +
  [0, scale]^3``) <-> ``open3d.geometry.VoxelGrid`` (occupied cells only, each ``grid_index`` ``(i, j, k)`` with
  centre ``origin + (index + 0.5) * voxel_size``): ``origin = translate``, ``voxel_size = scale / D``. Open3D keeps
  no grid size, so coming back the grid is ``resolution^3`` when given, else just big enough for the occupied cells
  (``D = max index + 1``; a negative index moves the origin). Open3D has no tensor voxel grid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lift3d.errors import InputError

if TYPE_CHECKING:
    import open3d as o3d

    from lift3d.io.voxels import VoxelGrid

PointsTuple = tuple[np.ndarray, np.ndarray | None, np.ndarray | None]


def as_points_tuple(data) -> PointsTuple:
    """Points ``(N, 3)``, a ``(points, normals, colors)`` tuple (shorter ones too) or a ``trimesh.PointCloud``
    -> ``(points (N, 3), normals (N, 3) | None, colors (N, 3) | None)``, checked."""
    import trimesh

    if isinstance(data, trimesh.PointCloud):
        colors = np.asarray(data.colors, np.float64)[:, :3] / 255.0 if len(data.colors) else None
        data = (np.asarray(data.vertices), None, colors)
    pts, normals, colors = (tuple(data) + (None, None))[:3] if isinstance(data, tuple) else (data, None, None)
    pts = np.asarray(pts)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise InputError(f"points must be an (N, 3) array, got shape {pts.shape}")
    for name, arr in (("normals", normals), ("colors", colors)):
        if arr is not None and np.shape(arr) != pts.shape:
            raise InputError(f"{name} must match the points' shape {pts.shape}, got {np.shape(arr)}")
    return pts, normals, colors


def points_to_legacy(data) -> o3d.geometry.PointCloud:
    """lift3d points (see :func:`as_points_tuple`) -> ``open3d.geometry.PointCloud``."""
    import open3d as o3d

    pts, normals, colors = as_points_tuple(data)
    v3 = (lambda a: o3d.utility.Vector3dVector(np.asarray(a, np.float64)))  # noqa: E731
    out = o3d.geometry.PointCloud(v3(pts))
    if normals is not None:
        out.normals = v3(normals)
    if colors is not None:
        out.colors = v3(colors)
    return out


def points_to_tensor(data) -> o3d.t.geometry.PointCloud:
    """lift3d points (see :func:`as_points_tuple`) -> ``open3d.t.geometry.PointCloud`` (Float32)."""
    import open3d as o3d

    pts, normals, colors = as_points_tuple(data)
    f32 = (lambda a: o3d.core.Tensor(np.ascontiguousarray(a, np.float32)))  # noqa: E731
    out = o3d.t.geometry.PointCloud(f32(pts))
    if normals is not None:
        out.point.normals = f32(normals)
    if colors is not None:
        out.point.colors = f32(colors)
    return out


def points_from_legacy(geom: o3d.geometry.PointCloud) -> PointsTuple:
    """``open3d.geometry.PointCloud`` -> ``(points, normals | None, colors | None)``, float32 ``(N, 3)`` each."""
    f32 = (lambda a: np.asarray(a, np.float32))  # noqa: E731
    return (f32(geom.points), f32(geom.normals) if geom.has_normals() else None,
            f32(geom.colors) if geom.has_colors() else None)


def points_from_tensor(geom: o3d.t.geometry.PointCloud) -> PointsTuple:
    """``open3d.t.geometry.PointCloud`` -> ``(points, normals | None, colors | None)``, float32 ``(N, 3)`` each."""
    get = (lambda k: geom.point[k].numpy().astype(np.float32) if k in geom.point else None)  # noqa: E731
    return get("positions"), get("normals"), get("colors")


def voxels_to_legacy(grid: VoxelGrid) -> o3d.geometry.VoxelGrid:
    """:class:`~lift3d.io.voxels.VoxelGrid` ``(D, D, D)`` -> ``open3d.geometry.VoxelGrid`` (occupied cells)."""
    import open3d as o3d

    occ = np.asarray(grid.occupancy, bool)
    if len(set(occ.shape)) != 1:
        raise InputError(f"Open3D voxel grids have cubic cells: a {'x'.join(map(str, occ.shape))} grid over one "
                         "cube has not")
    size = grid.scale / occ.shape[0]
    centres = grid.translate + (np.argwhere(occ) + 0.5) * size
    if len(centres) == 0:
        out = o3d.geometry.VoxelGrid()
        out.origin, out.voxel_size = np.asarray(grid.translate, np.float64), float(size)
        return out
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(centres))
    return o3d.geometry.VoxelGrid.create_from_point_cloud_within_bounds(
        cloud, float(size), np.asarray(grid.translate, np.float64), np.asarray(grid.translate + grid.scale))


def voxels_from_legacy(geom: o3d.geometry.VoxelGrid, resolution: int | None = None) -> VoxelGrid:
    """``open3d.geometry.VoxelGrid`` -> :class:`~lift3d.io.voxels.VoxelGrid` of ``resolution^3`` cells (default:
    just big enough for the occupied cells)."""
    from lift3d.io.voxels import VoxelGrid

    idx = np.array([v.grid_index for v in geom.get_voxels()], np.int64).reshape(-1, 3)
    size, origin = float(geom.voxel_size), np.asarray(geom.origin, np.float64)
    if len(idx) and idx.min() < 0:
        shift = np.minimum(idx.min(axis=0), 0)
        idx, origin = idx - shift, origin + shift * size
    need = int(idx.max()) + 1 if len(idx) else 1
    d = need if resolution is None else int(resolution)
    if d < need:
        raise InputError(f"the Open3D voxel grid needs {need}^3 cells, more than resolution {d}")
    occ = np.zeros((d, d, d), bool)
    occ[tuple(idx.T)] = True
    return VoxelGrid(occ, origin, d * size)
