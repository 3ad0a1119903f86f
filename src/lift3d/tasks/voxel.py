"""Voxel grids: the network predicts occupancy logits ``(B, 32, 32, 32)`` over the canonical cube."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lift3d.metrics.voxel import voxel_iou
from lift3d.tasks import TASKS
from lift3d.tasks.base import GridScores, Prediction, Task, eval_batches, surface_points


@TASKS.register("voxel")
class VoxelTask(Task):
    """Occupancy grid at 32^3 (``out["logits"]``), scored by IoU; meshes by marching cubes.

    Network output: ``{"logits": (B, D, D, D)}`` (and optionally ``coarse_logits`` that the loss also
    supervises). Dataset target: ``voxels32``.
    """

    name = "voxel"
    targets = ("voxels32",)
    score = "iou"
    default_loss = "voxel"

    def train_metrics(self, out: dict[str, torch.Tensor], batch: dict) -> dict[str, float]:
        probs = torch.sigmoid(out["logits"].float())
        return {"train_iou": float(voxel_iou(probs, batch["voxels32"], 0.5).mean())}

    def probabilities(self, out: dict[str, torch.Tensor]) -> torch.Tensor:
        """Network output -> occupancy probabilities float32 ``(B, D, D, D)``."""
        return torch.sigmoid(out["logits"].float())

    def evaluate(self, model: nn.Module, dataset, views: int = 1, thresholds=(0.3, 0.4, 0.5, 0.6),
                 threshold: float | None = None, batch_size: int = 16, limit: int | None = None,
                 fscore: bool = False, quiet: bool = True, keep_probs: bool = False) -> dict:
        """IoU at 32^3 (mean at ``threshold``, default 0.5, and at each of ``thresholds``), per category.

        With ``fscore`` also F-score@0.01/0.02 and Chamfer-L1 of the marching-cubes surface against the
        ground-truth surface points (dataset target ``points``); with ``keep_probs`` also ``probs``, the
        predicted probabilities float32 ``(n, D, D, D)`` in dataset order (for baselines that reuse this pass).
        """
        from lift3d.geometry.voxels import voxels_to_mesh

        level = 0.5 if threshold is None else threshold
        scores = GridScores(thresholds, level)
        kept: list[np.ndarray] = []
        for batch in eval_batches(model, dataset, views, batch_size, limit, quiet):
            probs = self.probabilities(model(batch["images"]))
            scores.add(probs, batch["voxels32"], batch["category"])
            if keep_probs:
                kept.append(probs.numpy())
            if fscore:
                for p, pts in zip(probs.numpy(), batch["points"].numpy(), strict=True):
                    scores.add_mesh(surface_points(voxels_to_mesh(p, level) if p.max() >= level else None), pts)
        result = scores.result(views)
        if keep_probs:
            result["probs"] = np.concatenate(kept)
        return result

    @torch.inference_mode()
    def predict(self, model: nn.Module, images: torch.Tensor, threshold: float | None = None,
                **options) -> list[Prediction]:
        self.check_options(options)
        probs = self.probabilities(model(images)).numpy()
        level = 0.5 if threshold is None else float(threshold)
        return [Prediction("voxels", grid=p.astype(np.float32), threshold=level) for p in probs]
