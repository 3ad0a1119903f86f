"""Targets derived from what a dataset ships: a mesh (Pix3D, ModelNet) or a voxel grid (ShapeNet-R2N2).

* From a mesh in the canonical frame: voxels by :func:`lift3d.geometry.voxels.mesh_to_voxels` (``tight``), surface
  points + normals by :func:`lift3d.geometry.sampling.sample_surface`, occupancy labels by Open3D ray parity
  (:func:`lift3d.geometry.voxels.points_inside`): the same functions ``lift3d data generate`` uses.
* From a 32^3 grid: the grid itself; surface points + normals sampled on its marching-cubes surface
  (:func:`lift3d.geometry.voxels.voxels_to_mesh`, accurate to about one cell, 1/32); occupancy labels read from the
  cell each query point falls in (exact with respect to the grid). Finer grids (``voxels64``) are not derivable.

Occupancy queries follow ``lift3d data generate``: half near the surface (surface samples + N(0, 0.02)), half
uniform in [-0.55, 0.55]^3. Every draw is seeded per shape, so a shape's targets never change between epochs.
"""

from __future__ import annotations

import numpy as np
import trimesh

from lift3d.errors import DatasetError, InputError

MESH_TARGETS = {"voxels32": "derived from the mesh (tight voxels)", "voxels64": "derived from the mesh (tight voxels)",
                "points": "derived from the mesh (surface samples + face normals)",
                "occupancy": "derived from the mesh (ray-parity inside test)"}
VOXEL_TARGETS = {"voxels32": "exact", "points": "derived from the voxels (marching-cubes surface, ~1/32 accurate)",
                 "occupancy": "derived from the voxels (cell lookup)"}


def occupancy_queries(surface: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` query points ``(n, 3)`` float32: ``n // 2`` surface points ``(P, 3)`` jittered by N(0, 0.02), the
    rest uniform in [-0.55, 0.55]^3 (the distribution of ``lift3d data generate``)."""
    n_near = n // 2
    near = surface[rng.integers(0, len(surface), n_near)] + rng.normal(0, 0.02, (n_near, 3))
    uniform = rng.uniform(-0.55, 0.55, (n - n_near, 3))
    return np.concatenate([near, uniform]).astype(np.float32)


def voxel_lookup(grid: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Value of the cell of ``grid`` ``(D, D, D)`` (over [-0.5, 0.5]^3) containing each point ``(N, 3)`` -> ``(N,)``;
    points outside the cube get 0."""
    d = grid.shape[0]
    idx = np.floor((np.asarray(points, np.float64) + 0.5) * d).astype(np.int64)
    inside = np.all((idx >= 0) & (idx < d), axis=1)
    out = np.zeros(len(idx), grid.dtype)
    out[inside] = grid[idx[inside, 0], idx[inside, 1], idx[inside, 2]]
    return out


def mesh_targets(mesh: trimesh.Trimesh, targets: tuple[str, ...], points: int, occ_samples: int,
                 seed: int) -> dict[str, np.ndarray]:
    """Requested ``targets`` of a mesh already in the canonical frame: ``voxels32``/``voxels64`` bool grids,
    ``points`` + ``normals`` ``(points, 3)``, ``occ_points`` ``(occ_samples, 3)`` + ``occ_labels``
    ``(occ_samples,)``."""
    from lift3d.geometry.sampling import sample_surface
    from lift3d.geometry.voxels import mesh_to_voxels, points_inside

    try:
        out = {t: mesh_to_voxels(mesh, int(t[6:])) for t in targets if t.startswith("voxels")}
        if "points" in targets or "occupancy" in targets:
            pts, nrm = sample_surface(mesh, points, seed=seed)
            if "points" in targets:
                out["points"], out["normals"] = pts, nrm
            if "occupancy" in targets:
                query = occupancy_queries(pts, occ_samples, np.random.default_rng(seed))
                out["occ_points"], out["occ_labels"] = query, points_inside(mesh, query)
    except InputError as exc:  # empty or zero-area geometry
        raise DatasetError(f"cannot derive targets from the mesh: {exc}") from exc
    return out


def voxel_targets(grid: np.ndarray, targets: tuple[str, ...], points: int, occ_samples: int,
                  seed: int) -> dict[str, np.ndarray]:
    """Requested ``targets`` of a bool 32^3 grid (``voxels32``, ``points`` + ``normals``, ``occ_points`` +
    ``occ_labels``; see the module docstring for how each is derived)."""
    from lift3d.geometry.sampling import sample_surface
    from lift3d.geometry.voxels import voxels_to_mesh

    out: dict[str, np.ndarray] = {"voxels32": grid} if "voxels32" in targets else {}
    if "points" in targets or "occupancy" in targets:
        try:
            pts, nrm = sample_surface(voxels_to_mesh(grid.astype(np.float32)), points, seed=seed)
        except InputError as exc:  # an empty grid has no surface
            raise DatasetError(f"cannot derive surface points from the voxels: {exc}") from exc
        if "points" in targets:
            out["points"], out["normals"] = pts, nrm
        if "occupancy" in targets:
            query = occupancy_queries(pts, occ_samples, np.random.default_rng(seed))
            out["occ_points"], out["occ_labels"] = query, voxel_lookup(grid, query)
    return out
