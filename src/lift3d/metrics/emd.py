"""Earth Mover's distance between equal-size point sets: exact (Hungarian) and approximate (Sinkhorn)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from lift3d.errors import InputError

EXACT_MAX = 2048  # the assignment is O(N^3) time and O(N^2) memory: beyond this use Sinkhorn


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] != 3 or len(a) == 0:
        raise InputError(f"EMD needs two non-empty point sets of equal size (N, 3), got {a.shape} and {b.shape}")
    return a, b


def emd_exact(a, b) -> float:
    """Mean Euclidean distance of the optimal one-to-one matching of ``a (N, 3)`` and ``b (N, 3)``."""
    a, b = _pair(a, b)
    cost = cdist(a, b)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def emd_sinkhorn(a, b, blur: float = 0.002, scaling: float = 0.9) -> float:
    """Entropic approximation of :func:`emd_exact` (geomloss Sinkhorn, p = 1) for large N.

    Returns the optimal-transport cost with uniform weights, which tends to the exact EMD as ``blur`` -> 0.
    """
    import torch
    from geomloss import SamplesLoss

    a, b = _pair(a, b)
    loss = SamplesLoss("sinkhorn", p=1, blur=blur, scaling=scaling, debias=False, backend="tensorized"
                       if len(a) <= 5000 else "online")
    return float(loss(torch.from_numpy(a).float(), torch.from_numpy(b).float()))


def emd(a, b) -> float:
    """Exact EMD up to ``EXACT_MAX`` points, Sinkhorn beyond."""
    return emd_exact(a, b) if len(a) <= EXACT_MAX else emd_sinkhorn(a, b)
