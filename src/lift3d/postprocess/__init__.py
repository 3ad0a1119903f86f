"""Refinement of reconstructed meshes: clean-up, hole filling, smoothing, decimation, watertight repair and
texture mapping from the input photos (see docs/postprocess.md)."""

from __future__ import annotations

import trimesh

from lift3d.postprocess.repair import cleanup, fill_holes, make_watertight, remove_small_components
from lift3d.postprocess.simplify import decimate
from lift3d.postprocess.smooth import laplacian_smooth, taubin_smooth
from lift3d.postprocess.texture import bake_texture, vertex_colors_from_views

__all__ = ["bake_texture", "cleanup", "decimate", "fill_holes", "laplacian_smooth", "make_watertight", "refine",
           "remove_small_components", "taubin_smooth", "vertex_colors_from_views"]


def refine(mesh: trimesh.Trimesh, smooth_iters: int = 10, target_faces: int | None = None, fill: bool = True,
           watertight: bool = False, min_component: float = 0.01) -> trimesh.Trimesh:
    """cleanup -> drop specks -> fill holes -> Taubin smoothing -> optional decimation / watertight repair.

    Args:
        mesh: vertices ``(V, 3)``, faces ``(F, 3)`` (typically marching cubes of a 32^3 occupancy grid).
        smooth_iters: Taubin lambda|mu pairs (0 = no smoothing).
        target_faces: decimate to about this many faces (``None`` = keep all).
        fill: close holes (:func:`fill_holes`).
        watertight: finish with :func:`make_watertight` (may remesh through voxels, see there).
        min_component: drop connected parts with less than this fraction of the surface area.

    Returns:
        A new mesh (geometry only), vertices ``(V', 3)``, faces ``(F', 3)``.
    """
    out = remove_small_components(cleanup(mesh), min_component)
    if fill:
        out = fill_holes(out)
    out = taubin_smooth(out, smooth_iters)
    if target_faces:
        out = decimate(out, target_faces=target_faces)
    if watertight:
        out = make_watertight(out)
    return out
