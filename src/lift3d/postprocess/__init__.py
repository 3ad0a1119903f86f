"""Refinement of reconstructed meshes: clean-up, hole filling, smoothing, decimation, watertight repair."""

from __future__ import annotations

import trimesh

from lift3d.postprocess.repair import cleanup, fill_holes, make_watertight, remove_small_components
from lift3d.postprocess.simplify import decimate
from lift3d.postprocess.smooth import laplacian_smooth, taubin_smooth

__all__ = ["cleanup", "decimate", "fill_holes", "laplacian_smooth", "make_watertight", "refine",
           "remove_small_components", "taubin_smooth"]


def refine(mesh: trimesh.Trimesh, smooth_iters: int = 10, target_faces: int | None = None, fill: bool = True,
           watertight: bool = False, min_component: float = 0.01) -> trimesh.Trimesh:
    """cleanup -> drop specks -> fill holes -> Taubin smoothing -> optional decimation / watertight repair."""
    out = remove_small_components(cleanup(mesh), min_component)
    if fill:
        out = fill_holes(out)
    out = taubin_smooth(out, smooth_iters)
    if target_faces:
        out = decimate(out, target_faces=target_faces)
    if watertight:
        out = make_watertight(out)
    return out
