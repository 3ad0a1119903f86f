"""Point-set metrics: Chamfer distance, F-score, normal consistency (KD-tree based, memory-bounded).

Convention (as in Occupancy Networks / DeepSDF evaluations): for point sets A and B,
``accuracy = mean_{a in A} min_b |a - b|`` and ``completeness = mean_{b in B} min_a |a - b|``;
``chamfer_l1 = (accuracy + completeness) / 2`` (Euclidean distances) and ``chamfer_l2`` the same with squared
distances. F-score at ``tau``: precision = fraction of A within tau of B, recall = fraction of B within tau
of A, harmonic mean. Distances are in the canonical frame (object fits the unit cube), so tau = 0.01 is 1%
of the object's size.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from lift3d.errors import InputError


def _check(points, name: str) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3 or len(p) == 0:
        raise InputError(f"{name} must be a non-empty (N, 3) point set, got shape {p.shape}")
    return p


def nearest(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each point of ``a (N, 3)``: distance to and index of its nearest neighbour in ``b (M, 3)``.

    A KD-tree over ``b`` (O((N + M) log M) time, O(N + M) memory), never an N x M matrix.
    """
    return cKDTree(b).query(a, k=1, workers=-1)


def chamfer_distance(a, b) -> dict[str, float]:
    """Symmetric Chamfer distance between ``a (N, 3)`` and ``b (M, 3)`` -> ``{"l1", "l2", "accuracy",
    "completeness"}`` (see the module docstring for the convention)."""
    a, b = _check(a, "a"), _check(b, "b")
    d_ab, _ = nearest(a, b)
    d_ba, _ = nearest(b, a)
    return {"l1": float(0.5 * (d_ab.mean() + d_ba.mean())), "l2": float(0.5 * ((d_ab**2).mean() + (d_ba**2).mean())),
            "accuracy": float(d_ab.mean()), "completeness": float(d_ba.mean())}


def fscore(pred, gt, tau: float = 0.01) -> float:
    """F-score at distance ``tau`` between predicted ``(N, 3)`` and ground-truth ``(M, 3)`` points."""
    a, b = _check(pred, "pred"), _check(gt, "gt")
    precision = float((nearest(a, b)[0] <= tau).mean())
    recall = float((nearest(b, a)[0] <= tau).mean())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def normal_consistency(a, na, b, nb) -> float:
    """Mean ``|cos|`` between each point's normal and its nearest neighbour's normal, both directions."""
    a, b = _check(a, "a"), _check(b, "b")
    na = np.asarray(na, np.float64) / np.linalg.norm(na, axis=1, keepdims=True)
    nb = np.asarray(nb, np.float64) / np.linalg.norm(nb, axis=1, keepdims=True)
    _, i_ab = nearest(a, b)
    _, i_ba = nearest(b, a)
    return 0.5 * (np.abs(np.sum(na * nb[i_ab], axis=1)).mean() + np.abs(np.sum(nb * na[i_ba], axis=1)).mean())


def chamfer_loss(a, b, chunk: int = 4096):
    """Differentiable Chamfer-L2 for training: ``a (B, N, 3)``, ``b (B, M, 3)`` torch tensors -> scalar.

    ``0.5 * (mean min |a-b|^2 + mean min |b-a|^2)``, averaged over the batch. Distances are computed in
    chunks of ``chunk`` query points so memory stays O(B * chunk * M) instead of O(B * N * M).
    """
    import torch

    def one_way(x, y):
        mins = [torch.cdist(x[:, i:i + chunk], y).pow(2).amin(dim=2) for i in range(0, x.shape[1], chunk)]
        return torch.cat(mins, dim=1).mean(dim=1)

    return (0.5 * (one_way(a, b) + one_way(b, a))).mean()
