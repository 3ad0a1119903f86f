"""Refinement of reconstructed meshes: clean-up, hole filling, smoothing, decimation, watertight repair and
texture mapping from the input photos (see docs/postprocess.md)."""

from __future__ import annotations

import trimesh

from lift3d.postprocess.pipeline import Step, apply_post, describe, parse_post, refine_steps, run_post
from lift3d.postprocess.remesh import isotropic_remesh
from lift3d.postprocess.repair import (
    cleanup,
    fill_holes,
    is_closed_manifold,
    make_watertight,
    remove_small_components,
    repair_watertight,
    voxel_remesh,
)
from lift3d.postprocess.simplify import decimate
from lift3d.postprocess.smooth import laplacian_smooth, taubin_smooth
from lift3d.postprocess.texture import bake_texture, vertex_colors_from_views

__all__ = ["Step", "apply_post", "bake_texture", "cleanup", "decimate", "describe", "fill_holes",
           "is_closed_manifold", "isotropic_remesh", "laplacian_smooth", "make_watertight", "parse_post", "refine",
           "refine_steps", "remove_small_components", "repair_watertight", "run_post", "taubin_smooth",
           "vertex_colors_from_views", "voxel_remesh"]


def refine(mesh: trimesh.Trimesh, smooth_iters: int = 10, target_faces: int | None = None, fill: bool = True,
           watertight: bool = False, min_component: float = 0.01) -> trimesh.Trimesh:
    """cleanup -> drop specks -> fill holes -> Taubin smoothing -> optional decimation / watertight repair.

    The pipeline ``clean,specks:F,fill,smooth:taubin:N[,decimate:T][,watertight]`` (:func:`refine_steps`).

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
    return apply_post(mesh, refine_steps(smooth_iters, target_faces, fill, watertight, min_component))
