"""Point cloud -> mesh surface reconstruction through Open3D (screened Poisson, ball pivoting)."""

from __future__ import annotations

import numpy as np
import trimesh

from lift3d.errors import InputError


def points_to_mesh(points: np.ndarray, normals: np.ndarray | None = None, method: str = "poisson",
                   depth: int = 8, density_quantile: float = 0.0, trim_distance: float = 4.0) -> trimesh.Trimesh:
    """Surface through points ``(N, 3)`` (normals ``(N, 3)`` estimated and oriented when missing).

    ``poisson``: screened Poisson (Kazhdan 2013) at octree ``depth``; watertight for a closed, evenly sampled
    cloud. Poisson always closes the surface, so where the cloud is open it invents surface far from the data:
    vertices farther than ``trim_distance`` mean point spacings from every input point are removed (0 keeps
    them), and, optionally, those in the lowest ``density_quantile`` of Open3D's support density (this one
    also cuts small holes into well-sampled closed surfaces, hence off by default). ``ball_pivoting``:
    interpolates the points, may leave holes where sampling is sparse.
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
        drop = dens < np.quantile(dens, density_quantile) if density_quantile > 0 else np.zeros(len(dens), bool)
        if trim_distance > 0:
            from scipy.spatial import cKDTree

            tree = cKDTree(pts)
            spacing = float(np.mean(tree.query(pts, k=2, workers=-1)[0][:, 1]))
            drop |= tree.query(np.asarray(mesh.vertices), k=1, workers=-1)[0] > trim_distance * spacing
        if drop.any():
            mesh.remove_vertices_by_mask(drop)
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
