"""Baselines that the quality report measures beside the model, on the same held-out shapes.

* mean shape: the average training voxel grid of the shape's (true) category, thresholded at the level that
  maximises IoU on the validation shapes: an oracle-class prior;
* visual hull: the grid carved from the ground-truth masks with the known cameras;
* retrieval (Tatarchenko et al., "What do single-view 3D reconstruction networks learn?", CVPR 2019): the
  training shape nearest to the model's 1-view prediction (soft IoU), and, as an upper bound of any method that
  returns a training shape, the nearest training shape chosen with the test ground truth (oracle).

Each returns ``{category: mean IoU at 32^3}``.
"""

from __future__ import annotations

import numpy as np

from lift3d.data.dataset import ShapeDataset
from lift3d.geometry.carving import visual_hull
from lift3d.metrics import voxel_iou
from lift3d.tasks.base import per_category


def gt_voxels(ds: ShapeDataset, i: int) -> np.ndarray:
    """Ground-truth occupancy of shape ``i``: bool ``(32, 32, 32)``."""
    return ds.arrays(i, "gt.npz", ["voxels32"])["voxels32"]


def categories(ds: ShapeDataset) -> list[str]:
    return [s["category"] for s in ds.shapes]


def mean_shapes(train: ShapeDataset) -> dict[str, np.ndarray]:
    """Average training occupancy per category ``{category: (32, 32, 32) float}``."""
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for i, c in enumerate(categories(train)):
        sums[c] = sums.get(c, 0) + gt_voxels(train, i).astype(np.float64)
        counts[c] = counts.get(c, 0) + 1
    return {c: sums[c] / counts[c] for c in sums}


def mean_shape_grids(train: ShapeDataset, val: ShapeDataset, test: ShapeDataset) -> np.ndarray:
    """Each test shape's category mean, thresholded at the level best on the validation shapes -> bool
    ``(N, 32, 32, 32)``."""
    means = mean_shapes(train)
    ths = np.linspace(0.1, 0.7, 13)
    val_scores = [np.mean([voxel_iou(means[c], gt_voxels(val, i), t) for i, c in enumerate(categories(val))])
                  for t in ths]
    t = float(ths[int(np.argmax(val_scores))])
    return np.stack([means[c] >= t for c in categories(test)])


def hull_grids(test: ShapeDataset, views: int) -> np.ndarray:
    """Visual hull of each test shape from its first ``views`` masks and cameras -> bool ``(N, 32, 32, 32)``."""
    ids = list(range(views))
    return np.stack([visual_hull(test.masks_full(i, ids), [test.cameras(i)[v] for v in ids], res=32) >= 0.5
                     for i in range(len(test))])


def grid_scores(grids: np.ndarray, test: ShapeDataset) -> dict[str, float]:
    """Mean IoU per category of predicted grids ``(N, 32, 32, 32)`` against the test shapes' ground truth."""
    return per_category([voxel_iou(g, gt_voxels(test, i), 0.5) for i, g in enumerate(grids)], categories(test))


def mean_shape_baseline(train: ShapeDataset, val: ShapeDataset, test: ShapeDataset) -> dict[str, float]:
    return grid_scores(mean_shape_grids(train, val, test), test)


def hull_baseline(test: ShapeDataset, views: int) -> dict[str, float]:
    return grid_scores(hull_grids(test, views), test)


def soft_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Soft IoU ``sum(a b) / sum(a + b - a b)`` of every row of ``a (N, D)`` with every row of ``b (M, D)``
    (values in [0, 1]) -> ``(N, M)``; for binary rows it is the IoU."""
    inter = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 1.0)


def retrieval_baselines(probs: np.ndarray, train: ShapeDataset,
                        test: ShapeDataset) -> tuple[dict[str, float], dict[str, float]]:
    """(retrieval by the 1-view prediction, oracle nearest training shape), each ``{category: mean IoU}``.

    ``probs`` float ``(N, 32, 32, 32)`` are the model's 1-view probabilities for the ``N`` test shapes in order
    (``evaluate(..., keep_probs=True)["probs"]``). The bank is every training grid ``(M, 32^3)``; both searches
    cover all categories.
    """
    bank = np.stack([gt_voxels(train, i).reshape(-1) for i in range(len(train))]).astype(np.float32)
    gt = np.stack([gt_voxels(test, i).reshape(-1) for i in range(len(test))]).astype(np.float32)
    pred = np.asarray(probs, np.float32).reshape(len(gt), -1)
    nearest = bank[soft_iou_matrix(pred, bank).argmax(1)]
    retrieved = voxel_iou(nearest.reshape(-1, 32, 32, 32), gt.reshape(-1, 32, 32, 32))
    oracle = soft_iou_matrix(gt, bank).max(1)
    cats = categories(test)
    return per_category(retrieved, cats), per_category(oracle, cats)
