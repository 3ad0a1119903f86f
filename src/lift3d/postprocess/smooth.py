"""Mesh smoothing through trimesh's filters."""

from __future__ import annotations

import trimesh


def taubin_smooth(mesh: trimesh.Trimesh, iterations: int = 10, lamb: float = 0.5, mu: float = -0.53) -> trimesh.Trimesh:
    """Taubin lambda|mu smoothing (Taubin 1995): removes marching-cubes staircases without shrinking the shape.

    Returns a smoothed copy; ``iterations = 0`` returns the mesh unchanged.
    """
    out = mesh.copy()
    if iterations > 0:
        trimesh.smoothing.filter_taubin(out, lamb=lamb, nu=-mu, iterations=iterations)
    return out


def laplacian_smooth(mesh: trimesh.Trimesh, iterations: int = 5, lamb: float = 0.5) -> trimesh.Trimesh:
    """Laplacian smoothing with volume preservation (trimesh's ``volume_constraint``)."""
    out = mesh.copy()
    trimesh.smoothing.filter_laplacian(out, lamb=lamb, iterations=iterations, volume_constraint=True)
    return out
