"""Occupancy loss: binary cross-entropy on query points drawn from the dataset's occupancy samples."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lift3d.losses import LOSSES


@LOSSES.register("occupancy")
class OccupancyLoss(nn.Module):
    """BCE of predicted occupancy logits ``out["logits"] (B, T)`` against ``batch["query_labels"] (B, T)``.

    The loss also decides what it supervises: :meth:`draw` picks ``queries`` of each shape's occupancy samples
    (``occ_points (B, P, 3)``, ``occ_labels (B, P)``) per step. The data engine writes half of its samples near the
    surface (Gaussian offsets of sigma 0.02 from surface points) and half uniform in the cube, so a uniform draw
    weights the region near the surface, where thin parts are decided, as much as the whole rest of the cube.

    Args:
        queries: query points per shape and step.
        pos_weight: weight of inside points in the BCE (None = 1).
    """

    def __init__(self, queries: int = 2048, pos_weight: float | None = None) -> None:
        super().__init__()
        if int(queries) < 1:
            raise ValueError(f"queries must be >= 1, got {queries}")
        self.queries = int(queries)
        self.pos_weight = pos_weight

    def draw(self, batch: dict) -> dict:
        """Add ``query_points (B, T, 3)`` and ``query_labels (B, T)``: ``T = queries`` samples per shape, drawn with
        torch's RNG (saved in training checkpoints, so a resumed run draws the same points)."""
        pts, labels = batch["occ_points"], batch["occ_labels"]
        b, p = labels.shape
        idx = torch.randint(0, p, (b, min(self.queries, p)))
        return {**batch, "query_points": torch.gather(pts.float(), 1, idx[..., None].expand(-1, -1, 3)),
                "query_labels": torch.gather(labels.float(), 1, idx)}

    def forward(self, out: dict[str, torch.Tensor], batch: dict) -> torch.Tensor:
        logits = out["logits"].float()
        pw = None if self.pos_weight is None else torch.tensor(float(self.pos_weight))
        return F.binary_cross_entropy_with_logits(logits, batch["query_labels"], pos_weight=pw)
