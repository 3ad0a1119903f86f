"""Point cloud -> mesh surface reconstruction through Open3D (screened Poisson, ball pivoting)."""

from __future__ import annotations

import numpy as np
import trimesh

from lift3d.errors import InputError


def points_to_mesh(points: np.ndarray, normals: np.ndarray | None = None, method: str = "poisson",
                   depth: int = 8, density_quantile: float = 0.02) -> trimesh.Trimesh:
    """Surface through points ``(N, 3)`` (normals ``(N, 3)`` estimated and oriented when missing).

    ``poisson``: screened Poisson (Kazhdan 2013), watertight; vertices in the lowest ``density_quantile`` of
    support are trimmed (they are extrapolated far from the data). ``ball_pivoting``: interpolates the points,
    may leave holes where sampling is sparse.
    """
    import open3d as o3d

    pts = np.asarray(points, np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3 or len(pts) < 10:
        raise InputError(f"need at least 10 points (N, 3) to build a surface, got {pts.shape}")
    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts))
    if normals is None:
        pcd.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(knn=20))
        pcd.orient_normals_consistent_tangent_plane(10)
        centre = pts.mean(axis=0)  # make normals point away from the centroid on average (outward)
        n = np.asarray(pcd.normals)
        if np.mean(np.sum((pts - centre) * n, axis=1)) < 0:
            pcd.normals = o3d.utility.Vector3dVector(-n)
    else:
        pcd.normals = o3d.utility.Vector3dVector(np.asarray(normals, np.float64))
    if method == "poisson":
        mesh, dens = o3d.geometry.TriangleMesh.create_from_point_cloud_poisson(pcd, depth=depth)
        dens = np.asarray(dens)
        if density_quantile > 0:
            mesh.remove_vertices_by_mask(dens < np.quantile(dens, density_quantile))
    elif method == "ball_pivoting":
        spacing = float(np.mean(pcd.compute_nearest_neighbor_distance()))
        radii = o3d.utility.DoubleVector([spacing * k for k in (1.5, 3.0, 6.0)])
        mesh = o3d.geometry.TriangleMesh.create_from_point_cloud_ball_pivoting(pcd, radii)
    else:
        raise InputError(f"unknown surface method {method!r}; use poisson or ball_pivoting")
    out = trimesh.Trimesh(np.asarray(mesh.vertices), np.asarray(mesh.triangles), process=True)
    if len(out.faces) == 0:
        raise InputError("surface reconstruction produced no triangles")
    return out
