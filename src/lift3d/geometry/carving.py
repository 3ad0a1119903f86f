"""Space carving: the visual hull of silhouettes seen by calibrated cameras (a classical baseline)."""

from __future__ import annotations

import numpy as np

from lift3d.errors import InputError
from lift3d.geometry.cameras import Camera, project
from lift3d.geometry.voxels import voxel_centers


def visual_hull(masks: list[np.ndarray], cameras: list[Camera], res: int = 32, subsamples: int = 2) -> np.ndarray:
    """Carve a ``res^3`` grid over the canonical cube with silhouettes -> float32 occupancy ``(res, res, res)``.

    A sample point is kept when it projects inside the foreground mask ``(H, W)`` of every view (points that
    fall outside an image are carved away too, as their view cannot vouch for them). Each cell is tested
    with ``subsamples^3`` points and its value is the fraction kept, so the result can be thresholded at 0.5.
    """
    if len(masks) != len(cameras) or not masks:
        raise InputError(f"visual hull needs one camera per mask, got {len(masks)} masks, {len(cameras)} cameras")
    fine = res * subsamples
    pts = voxel_centers(fine).reshape(-1, 3)
    keep = np.ones(len(pts), dtype=bool)
    for mask, cam in zip(masks, cameras, strict=True):
        m = np.asarray(mask, dtype=bool)
        uv, z = project(pts, cam)
        u = np.floor(uv[:, 0]).astype(np.int64)
        v = np.floor(uv[:, 1]).astype(np.int64)
        inside = (z > 0) & (u >= 0) & (u < m.shape[1]) & (v >= 0) & (v < m.shape[0])
        hit = np.zeros(len(pts), dtype=bool)
        hit[inside] = m[v[inside], u[inside]]
        keep &= hit
    grid = keep.reshape(fine, fine, fine).astype(np.float32)
    s = subsamples
    return grid.reshape(res, s, res, s, res, s).mean(axis=(1, 3, 5))
