"""Remove the smooth part of the lighting a photo baked into the colours projected onto a surface.

A photo's colour is albedo times shading. With the surface normals known, the shading of a distant light plus
ambient is, to first order, a linear function of the normal (first-order spherical harmonics: ``a + b . n``).
Fitting that function to the luminance of the seen surface by least squares and dividing it out leaves colours
that no longer darken as the surface turns away from the light, so a renderer or game engine can light the
model again. Hand-written (a 4-parameter least-squares fit): no installed library does intrinsic decomposition.

What it cannot remove: cast shadows, highlights and colour that really does change with orientation (a car
whose roof is painted another colour than its sides would be partly evened out: hence ``--delight`` is opt-in).
The fit is skipped when the normals explain little of the luminance (``min_r2``).
"""

from __future__ import annotations

import numpy as np

LUMA = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709 luminance weights
MIN_R2 = 0.15  # share of the luminance variance the normals must explain before any shading is removed
SHADE_RANGE = (0.4, 2.5)  # the correction is bounded: never more than 2.5x brighter or darker


def remove_shading(colours: np.ndarray, normals: np.ndarray, seen: np.ndarray,
                   min_r2: float = MIN_R2) -> tuple[np.ndarray, dict[str, float]]:
    """Divide the fitted first-order shading out of the seen colours.

    Args:
        colours: ``(N, 3)`` float in [0, 1], valid where ``seen (N,)`` is True; normals: unit ``(N, 3)``.
        min_r2: leave the colours as they are when the fit explains less of the luminance variance than this.

    Returns:
        ``(colours (N, 3) float32, info)`` with ``info = {"r2": ..., "applied": 0 or 1, "light": |b| / a}``.
    """
    out = np.asarray(colours, np.float32).copy()
    seen = np.asarray(seen, bool)
    if seen.sum() < 16:
        return out, {"r2": 0.0, "applied": 0.0, "light": 0.0}
    lum = out[seen].astype(np.float64) @ LUMA
    basis = np.c_[np.ones(int(seen.sum())), np.asarray(normals, np.float64)[seen]]
    keep = np.ones(len(lum), bool)
    for _ in range(3):  # trimmed least squares: highlights and cast shadows are outliers, not lighting
        coef, *_ = np.linalg.lstsq(basis[keep], lum[keep], rcond=None)
        resid = np.abs(lum - basis @ coef)
        keep = resid <= np.quantile(resid, 0.8)
    pred = basis @ coef
    var = float(lum.var())
    r2 = 1.0 - float((lum - pred).var()) / var if var > 1e-12 else 0.0
    info = {"r2": r2, "applied": 0.0, "light": float(np.linalg.norm(coef[1:]) / max(abs(coef[0]), 1e-6))}
    if r2 < min_r2 or coef[0] <= 0:
        return out, info
    shade = np.clip(pred / pred.mean(), *SHADE_RANGE)
    out[seen] = np.clip(out[seen] / shade[:, None], 0.0, 1.0)
    info["applied"] = 1.0
    return out, info
