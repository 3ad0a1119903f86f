"""Colours for the surface no photo sees (the back of a single-view reconstruction).

Two passes, after :func:`lift3d.postprocess.texture.project_colours`:

1. **Mirror symmetry.** Most made objects are mirror-symmetric (a chair left/right, a bottle about any plane
   through its axis). Candidate planes through the surface's centroid (the frame's X and Z axes and the three
   principal axes) are scored by reflecting the surface and measuring how far the reflection lies from it; a
   plane whose mean distance is under ``tol`` of the object's size counts as a symmetry. An unseen point takes
   the colour of the seen point nearest its mirror image, when one lies within ``radius`` and faces the
   mirrored way.
2. **Interpolation.** What is still unseen takes the inverse-distance-weighted mean of its ``k`` nearest seen
   points in 3D: a smooth blend of the surrounding colours, not one copied colour with a hard edge.

Both are hand-written (a KD-tree query each): no installed library fills texture holes over a 3D surface.
"""

from __future__ import annotations

import numpy as np

from lift3d.errors import InputError

SYMMETRY_TOL = 0.015  # mean reflection distance / object diagonal below which a plane may be a symmetry plane
SYMMETRY_RATIO = 1.3  # ... and no more than this times the best plane's (measured on reconstructions: true
# planes score 0.005-0.010, the best false ones (a car front/back, an airplane top/bottom) 1.7x their best)
MAX_SAMPLES = 4000  # surface points used to score symmetry planes


def symmetry_planes(points: np.ndarray, tol: float = SYMMETRY_TOL) -> list[tuple[np.ndarray, float, float]]:
    """Mirror planes of a surface sampled by ``points (N, 3)``, best first.

    Returns ``[(normal (3,), offset, score)]`` for the planes ``normal . x = offset`` whose reflection score (mean
    distance from each reflected sample to the nearest sample, over the bounding-box diagonal) is below ``tol``
    and within :data:`SYMMETRY_RATIO` of the best plane's (or of half the sample spacing): a sampled surface's
    scores never reach 0, so an absolute bound alone would take near-symmetries such as a car's front and back.
    """
    from scipy.spatial import cKDTree

    pts = np.asarray(points, np.float64)
    if len(pts) < 8:
        return []
    if len(pts) > MAX_SAMPLES:
        pts = pts[np.random.default_rng(0).choice(len(pts), MAX_SAMPLES, replace=False)]
    centre = pts.mean(axis=0)
    diag = float(np.linalg.norm(pts.max(axis=0) - pts.min(axis=0))) or 1.0
    _, _, axes = np.linalg.svd(pts - centre, full_matrices=False)
    candidates: list[np.ndarray] = []
    for n in [np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0]), *axes]:
        n = n / np.linalg.norm(n)
        if all(abs(float(n @ c)) < 0.98 for c in candidates):  # skip near-duplicates
            candidates.append(n)
    tree = cKDTree(pts)
    # What a perfect symmetry scores on this sampling: reflections land between samples, about half the spacing.
    floor = 0.5 * float(tree.query(pts, k=2, workers=-1)[0][:, 1].mean()) / diag
    found = []
    for n in candidates:
        offset = float(n @ centre)
        mirrored = pts - 2.0 * ((pts @ n) - offset)[:, None] * n
        score = float(tree.query(mirrored, workers=-1)[0].mean()) / diag
        found.append((n, offset, score))
    best = max(min(f[2] for f in found), floor)
    return sorted([f for f in found if f[2] < tol and f[2] <= SYMMETRY_RATIO * best], key=lambda f: f[2])


def fill_unseen(points: np.ndarray, normals: np.ndarray, colours: np.ndarray, seen: np.ndarray,
                symmetry: bool = True, k: int = 8, radius: float = 0.03,
                planes: list[tuple[np.ndarray, float, float]] | None = None) -> tuple[np.ndarray, dict[str, float]]:
    """Colour the unseen points from the seen ones.

    Args:
        points: surface points ``(N, 3)``; normals: their unit normals ``(N, 3)``.
        colours: ``(N, 3)`` float, valid where ``seen (N,)`` is True.
        symmetry: use mirror symmetry first (see the module docstring).
        k: neighbours blended by the interpolation pass.
        radius: how far (fraction of the bounding-box diagonal) a mirrored point may be from the seen point
            whose colour it takes.
        planes: the symmetry planes (:func:`symmetry_planes` of a uniform surface sample); ``None`` scores them on
            ``points``, which must then sample the surface evenly.

    Returns:
        ``(colours (N, 3) float32, stats)``, stats = fractions of points ``seen``, ``mirrored``,
        ``interpolated`` and the number of symmetry ``planes`` used.
    """
    from scipy.spatial import cKDTree

    seen = np.asarray(seen, bool)
    if not seen.any():
        raise InputError("no camera sees the mesh: check that the cameras and the mesh share one frame")
    pts = np.asarray(points, np.float64)
    nrm = np.asarray(normals, np.float64)
    out = np.asarray(colours, np.float32).copy()
    known = seen.copy()
    n = max(len(pts), 1)
    stats = {"seen": float(seen.sum()) / n, "mirrored": 0.0, "interpolated": 0.0, "planes": 0.0}
    if known.all():
        return out, stats
    diag = float(np.linalg.norm(pts.max(axis=0) - pts.min(axis=0))) or 1.0
    # The kd-tree options trade a balanced build for speed; the answers are the same.
    tree = cKDTree(pts[seen], balanced_tree=False, compact_nodes=False)
    seen_idx = np.nonzero(seen)[0]
    if symmetry:
        planes = symmetry_planes(pts) if planes is None else planes  # the whole surface: the seen part is one-sided
        stats["planes"] = float(len(planes))
        for normal, offset, _ in planes:
            todo = np.nonzero(~known)[0]
            if len(todo) == 0:
                break
            side = (pts[todo] @ normal - offset)[:, None] * normal
            dist, j = tree.query(pts[todo] - 2.0 * side, distance_upper_bound=radius * diag, workers=-1)
            ok = np.isfinite(dist)
            src = seen_idx[j[ok]]
            mirrored_n = nrm[todo[ok]] - 2.0 * (nrm[todo[ok]] @ normal)[:, None] * normal
            agree = np.einsum("ij,ij->i", mirrored_n, nrm[src]) > 0.5
            dst = todo[ok][agree]
            out[dst] = out[src[agree]]
            known[dst] = True
            stats["mirrored"] += len(dst) / n
    rest = np.nonzero(~known)[0]
    if len(rest):
        donors = np.nonzero(known)[0]
        kk = min(k, len(donors))
        dtree = cKDTree(pts[donors], balanced_tree=False, compact_nodes=False)
        dist, j = dtree.query(pts[rest], k=kk, workers=-1)
        dist, j = dist.reshape(len(rest), kk), j.reshape(len(rest), kk)
        w = 1.0 / np.maximum(dist, 1e-6 * diag) ** 2
        out[rest] = (w[:, :, None] * out[donors][j]).sum(axis=1) / w.sum(axis=1, keepdims=True)
        stats["interpolated"] = len(rest) / n
    return out, stats
