"""Losses on occupancy logits ``(B, D, D, D)`` against targets in {0, 1}."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lift3d.losses import LOSSES


def voxel_bce(logits: torch.Tensor, target: torch.Tensor, pos_weight: float | None = None) -> torch.Tensor:
    """Binary cross-entropy with logits, mean over voxels; ``pos_weight`` up-weights occupied voxels."""
    pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=logits.dtype, device=logits.device)
    return F.binary_cross_entropy_with_logits(logits, target, pos_weight=pw)


def focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0, alpha: float = 0.5) -> torch.Tensor:
    """Focal loss (Lin et al. 2017): BCE scaled by ``(1 - p_t)^gamma`` to focus on hard voxels."""
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p = torch.sigmoid(logits)
    p_t = p * target + (1 - p) * (1 - target)
    a_t = alpha * target + (1 - alpha) * (1 - target)
    return (2.0 * a_t * (1 - p_t) ** gamma * bce).mean()


def soft_iou_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """``1 - soft IoU`` per shape (probabilities instead of hard occupancy), averaged over the batch."""
    p = torch.sigmoid(logits).flatten(1)
    t = target.flatten(1)
    inter = (p * t).sum(1)
    union = (p + t - p * t).sum(1)
    return (1.0 - (inter + eps) / (union + eps)).mean()


@LOSSES.register("voxel")
class VoxelLoss(nn.Module):
    """Weighted sum ``bce * BCE + focal * Focal + iou * SoftIoU`` on the refined logits, plus the same on the
    coarse (pre-refiner) logits scaled by ``coarse``."""

    def __init__(self, bce: float = 1.0, focal: float = 0.0, iou: float = 0.5, pos_weight: float | None = None,
                 coarse: float = 0.5) -> None:
        super().__init__()
        self.w = {"bce": bce, "focal": focal, "iou": iou}
        self.pos_weight = pos_weight
        self.coarse = coarse

    def _one(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = logits.new_zeros(())
        if self.w["bce"]:
            loss = loss + self.w["bce"] * voxel_bce(logits, target, self.pos_weight)
        if self.w["focal"]:
            loss = loss + self.w["focal"] * focal_loss(logits, target)
        if self.w["iou"]:
            loss = loss + self.w["iou"] * soft_iou_loss(logits, target)
        return loss

    def forward(self, out: dict[str, torch.Tensor], batch: dict) -> torch.Tensor:
        """``out["logits"]`` (+ ``coarse_logits``) ``(B, D, D, D)`` against ``batch["voxels32"]`` -> scalar."""
        target = batch["voxels32"]
        loss = self._one(out["logits"].float(), target)
        if self.coarse and "coarse_logits" in out and out["coarse_logits"] is not out["logits"]:
            loss = loss + self.coarse * self._one(out["coarse_logits"].float(), target)
        return loss
