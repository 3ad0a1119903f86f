"""Contact sheets: one PNG showing a dataset sample's views, masks, depth, normals and ground truth."""

from __future__ import annotations

import os

import numpy as np


def _depth_rgb(depth: np.ndarray) -> np.ndarray:
    """z-depth ``(H, W)`` -> uint8 RGB, near = bright, background black."""
    valid = depth > 0
    out = np.zeros((*depth.shape, 3), np.uint8)
    if valid.any():
        lo, hi = depth[valid].min(), depth[valid].max()
        t = 1.0 - (depth - lo) / max(hi - lo, 1e-6)
        ramp = np.stack([0.2 + 0.8 * t, 0.4 + 0.5 * t, 1.0 - 0.6 * t], axis=-1)
        out[valid] = (np.clip(ramp[valid], 0, 1) * 255).astype(np.uint8)
    return out


def _splat(points: np.ndarray, cam, size: int) -> np.ndarray:
    """Project points ``(N, 3)`` with ``cam`` into a white ``size x size`` image, darker = nearer."""
    from lift3d.geometry.cameras import project

    img = np.full((size, size, 3), 255, np.uint8)
    uv, z = project(points, cam)
    scale = size / cam.width
    u, v = (uv[:, 0] * scale).astype(int), (uv[:, 1] * scale).astype(int)
    ok = (u >= 0) & (u < size) & (v >= 0) & (v < size) & (z > 0)
    order = np.argsort(-z[ok])
    shade = (40 + 160 * (z[ok] - z[ok].min()) / max(np.ptp(z[ok]), 1e-6)).astype(np.uint8)
    img[v[ok][order], u[ok][order]] = np.stack([shade[order], shade[order], np.full(ok.sum(), 200, np.uint8)], 1)
    return img


def contact_sheet(root: str | os.PathLike, index: int, split: str = "all", max_views: int = 6) -> np.ndarray:
    """Rows: RGB views / masks / depth / normals / GT voxels rendered from the same cameras / GT points.

    Returns an RGB uint8 image.
    """
    from lift3d.data.dataset import ShapeDataset, check_ground_truth
    from lift3d.data.render import render_views
    from lift3d.errors import InputError
    from lift3d.geometry.voxels import voxels_to_mesh

    if max_views < 1:
        raise InputError(f"views must be at least 1, got {max_views}")
    ds = ShapeDataset(root, split, targets=())
    if not 0 <= index < len(ds):
        raise InputError(f"index {index} out of range: split {split!r} has {len(ds)} shapes")
    n = min(max_views, ds.total_views)
    cams = ds.cameras(index)[:n]
    rgba = [ds._rgba(index, v) for v in range(n)]
    geo = ds.arrays(index, "geometry.npz", ["depth", "normals"])
    gt = ds.arrays(index, "gt.npz", ["voxels32", "points"])
    check_ground_truth(gt, ds.shape_dir(index) / "gt.npz", ds.manifest)
    white = lambda a: (a[..., :3] * (a[..., 3:] / 255.0) + 255 * (1 - a[..., 3:] / 255.0)).astype(np.uint8)  # noqa: E731
    vox_mesh = voxels_to_mesh(gt["voxels32"].astype(np.float32))
    vox = render_views(vox_mesh, cams, 0, part_ids=np.zeros(len(vox_mesh.faces), np.int64),
                       colors=np.array([[0.55, 0.7, 0.9]]), background=(1, 1, 1))
    size = cams[0].width
    rows = [
        [white(a) for a in rgba],
        [np.repeat((a[..., 3:] >= 128).astype(np.uint8) * 255, 3, axis=-1) for a in rgba],
        [_depth_rgb(geo["depth"][v]) for v in range(n)],
        [((geo["normals"][v].astype(np.float32) / 127 + 1) * 127.5).astype(np.uint8) for v in range(n)],
        [v.rgba[..., :3] for v in vox],
        [_splat(gt["points"], c, size) for c in cams],
    ]
    return np.concatenate([np.concatenate(r, axis=1) for r in rows], axis=0)
