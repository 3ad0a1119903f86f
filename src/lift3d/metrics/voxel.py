"""Voxel IoU."""

from __future__ import annotations

import numpy as np


def voxel_iou(pred, gt, threshold: float = 0.5):
    """Intersection over union of ``pred >= threshold`` and ``gt >= 0.5``.

    Accepts numpy arrays or torch tensors, one grid ``(D, D, D)`` -> float, or a batch ``(B, D, D, D)`` ->
    ``(B,)``. Two empty grids have IoU 1.
    """
    try:
        import torch

        if isinstance(pred, torch.Tensor):
            p = (pred >= threshold).flatten(start_dim=pred.dim() - 3)
            g = (torch.as_tensor(gt, device=pred.device) >= 0.5).flatten(start_dim=pred.dim() - 3)
            inter = (p & g).sum(-1).double()
            union = (p | g).sum(-1).double()
            return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(inter))
    except ImportError:  # torch is a dependency; this only keeps numpy callers independent of it
        pass
    p = np.asarray(pred) >= threshold
    g = np.asarray(gt) >= 0.5
    axes = tuple(range(p.ndim - 3, p.ndim))
    inter = np.logical_and(p, g).sum(axis=axes)
    union = np.logical_or(p, g).sum(axis=axes)
    iou = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return float(iou) if iou.ndim == 0 else iou
