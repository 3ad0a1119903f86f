"""Evaluation on held-out shapes: voxel IoU (per category, at several thresholds) and F-score of meshes."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from tqdm import tqdm


def batch_iou(probs: torch.Tensor, target: torch.Tensor, threshold: float) -> torch.Tensor:
    """IoU per shape of ``probs >= threshold`` vs ``target`` (both ``(B, D, D, D)``) -> ``(B,)``."""
    p = (probs >= threshold).flatten(1)
    t = target.flatten(1) >= 0.5
    inter = (p & t).sum(1).float()
    union = (p | t).sum(1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(inter))


@torch.inference_mode()
def predict_dataset(model: nn.Module, dataset, views: int, batch_size: int = 16, limit: int | None = None,
                    quiet: bool = True):
    """Yield ``(probs (B, D, D, D), batch)`` over the dataset with ``views`` views per shape."""
    from lift3d.data.dataset import collate

    was_training = model.training
    model.eval()
    dataset.set_num_views(views)
    n = len(dataset) if limit is None else min(limit, len(dataset))
    try:
        for start in tqdm(range(0, n, batch_size), desc=f"eval {views}v", disable=quiet, leave=False):
            batch = collate([dataset[i] for i in range(start, min(n, start + batch_size))])
            out = model(batch["images"])
            yield torch.sigmoid(out["logits"]), batch
    finally:
        model.train(was_training)


def evaluate(model: nn.Module, dataset, views: int = 1, thresholds=(0.3, 0.4, 0.5, 0.6), batch_size: int = 16,
             limit: int | None = None, fscore: bool = False, threshold: float | None = None,
             quiet: bool = True, keep_probs: bool = False) -> dict:
    """Metrics of ``model`` on ``dataset`` with ``views`` views per shape.

    Returns a dict: ``iou`` (mean IoU at ``threshold``, default 0.5), ``iou_at`` {threshold: mean IoU},
    ``best_threshold``, ``per_category`` {category: mean IoU at ``threshold``}, ``n``; with ``fscore``
    also ``fscore@0.01``/``fscore@0.02`` and ``chamfer_l1`` from meshes (marching cubes of the prediction
    vs the ground-truth surface points); with ``keep_probs`` also ``probs``, the predicted occupancy
    probabilities float32 ``(n, D, D, D)`` in dataset order (for baselines that reuse the same pass).
    """
    level = 0.5 if threshold is None else threshold
    ths = sorted(set(thresholds) | {level})
    ious = {t: [] for t in ths}
    cats: list[str] = []
    kept: list[np.ndarray] = []
    mesh_metrics: dict[str, list[float]] = {"fscore@0.01": [], "fscore@0.02": [], "chamfer_l1": []}
    for probs, batch in predict_dataset(model, dataset, views, batch_size, limit, quiet):
        for t in ths:
            ious[t] += batch_iou(probs, batch["voxels32"], t).tolist()
        cats += batch["category"]
        if keep_probs:
            kept.append(probs.float().numpy())
        if fscore:
            for p, pts in zip(probs.numpy(), batch["points"].numpy(), strict=True):
                for k, v in mesh_scores(p, pts, level).items():
                    mesh_metrics[k].append(v)
    iou_at = {t: float(np.mean(v)) for t, v in ious.items()}
    arr = np.asarray(ious[level])
    result = {
        "views": views, "n": len(arr), "threshold": level, "iou": float(arr.mean()), "iou_at": iou_at,
        "best_threshold": max(iou_at, key=iou_at.get),
        "per_category": {c: float(arr[[i for i, x in enumerate(cats) if x == c]].mean()) for c in sorted(set(cats))},
    }
    if fscore:
        result.update({k: float(np.mean(v)) for k, v in mesh_metrics.items()})
    if keep_probs:
        result["probs"] = np.concatenate(kept)
    return result


def mesh_scores(probs: np.ndarray, gt_points: np.ndarray, level: float, n: int = 10000) -> dict[str, float]:
    """F-score at tau 0.01 / 0.02 and Chamfer-L1 between the prediction's surface and GT points ``(P, 3)``."""
    from lift3d.geometry.sampling import sample_surface
    from lift3d.geometry.voxels import voxels_to_mesh
    from lift3d.metrics import chamfer_distance, fscore

    if probs.max() < level:
        return {"fscore@0.01": 0.0, "fscore@0.02": 0.0, "chamfer_l1": 1.0}
    pred, _ = sample_surface(voxels_to_mesh(probs, level), n, seed=0)
    gt = gt_points[np.random.default_rng(0).choice(len(gt_points), min(n, len(gt_points)), replace=False)]
    return {"fscore@0.01": float(fscore(pred, gt, 0.01)), "fscore@0.02": float(fscore(pred, gt, 0.02)),
            "chamfer_l1": float(chamfer_distance(pred, gt)["l1"])}
