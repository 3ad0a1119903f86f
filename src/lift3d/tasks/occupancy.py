"""Implicit occupancy fields: the network answers "inside?" for query points; meshes by multi-resolution evaluation
and marching cubes at 64^3 to 256^3."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lift3d.errors import InputError, ModelError
from lift3d.tasks import TASKS
from lift3d.tasks.base import GridScores, Prediction, Task, eval_batches, surface_points

RESOLUTIONS = (32, 64, 128, 256)
START = 32  # the multi-resolution evaluation starts from a dense grid of this size


def cell_centres(res: int) -> torch.Tensor:
    """Centres of a ``res^3`` grid over the canonical cube ``[-0.5, 0.5]^3`` -> ``(res^3, 3)``, x-major (the order of
    ``grid[i, j, k]``)."""
    c = -0.5 + (torch.arange(res, dtype=torch.float32) + 0.5) / res
    return torch.stack(torch.meshgrid(c, c, c, indexing="ij"), -1).reshape(-1, 3)


def mixed_cells(occ: torch.Tensor) -> torch.Tensor:
    """bool ``(R, R, R)``: cells whose 3x3x3 neighbourhood holds both inside and outside cells of ``occ``."""
    x = occ.float()[None, None]
    return (F.max_pool3d(x, 3, 1, 1) != -F.max_pool3d(-x, 3, 1, 1))[0, 0]


def field_logits(decode: Callable[[torch.Tensor], torch.Tensor], resolution: int, level: float = 0.0,
                 chunk: int = 65536) -> torch.Tensor:
    """Occupancy logits at the cell centres of a ``resolution^3`` grid -> ``(R, R, R)``.

    Multi-resolution evaluation (the idea of OccNet's MISE): the field is evaluated densely at 32^3; at each
    doubling the logits are trilinearly up-sampled, and the network is re-evaluated only in cells whose coarse
    neighbourhood straddles ``level`` (where the surface can be). Far from the surface the up-sampled value keeps
    its sign, so the occupancy there is already right. ``decode`` maps points ``(T, 3)`` to logits ``(T,)``.
    """
    if resolution not in RESOLUTIONS:
        raise InputError(f"resolution must be one of {', '.join(map(str, RESOLUTIONS))}, got {resolution}")

    def run(points: torch.Tensor) -> torch.Tensor:
        return torch.cat([decode(points[i:i + chunk]) for i in range(0, len(points), chunk)])

    res = min(START, resolution)
    logits = run(cell_centres(res)).view(res, res, res)
    while res < resolution:
        need = mixed_cells(logits >= level)
        res *= 2
        logits = F.interpolate(logits[None, None], scale_factor=2, mode="trilinear", align_corners=False)[0, 0]
        need = need.repeat_interleave(2, 0).repeat_interleave(2, 1).repeat_interleave(2, 2)
        idx = need.nonzero()
        if len(idx):
            logits[need] = run(-0.5 + (idx.float() + 0.5) / res)
    return logits


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


@TASKS.register("occupancy")
class OccupancyTask(Task):
    """Occupancy field queried at points (``model.encode(images)``, ``model.decode(points, code)``).

    Trained on the dataset's occupancy samples (target ``occupancy``: ``occ_points``/``occ_labels``, drawn per step
    by the loss); validated by IoU at 32^3 against ``voxels32`` with the field sampled at the cell centres (the
    ground truth's own convention: a cell is inside when its centre is), so its IoU compares with the voxel
    model's. Inference option ``resolution`` (64, 128, 256; default 128) sets the marching-cubes grid.
    """

    name = "occupancy"
    targets = ("occupancy", "voxels32")
    score = "iou"
    default_loss = "occupancy"
    options = ("resolution",)
    default_resolution = 128

    def prepare(self, batch: dict, train: bool = True) -> dict:
        draw = getattr(self.loss_fn, "draw", None)
        if draw is None:
            raise ModelError(f"loss {type(self.loss_fn).__name__} cannot train an occupancy model: it draws no "
                             "query points (use the occupancy loss)")
        return draw(batch)

    def inputs(self, batch: dict) -> tuple[torch.Tensor, ...]:
        return batch["images"], batch["query_points"]

    def train_metrics(self, out: dict[str, torch.Tensor], batch: dict) -> dict[str, float]:
        right = (out["logits"].float() >= 0) == (batch["query_labels"] >= 0.5)
        return {"train_acc": float(right.float().mean())}

    def fields(self, model: nn.Module, code: torch.Tensor, resolution: int, threshold: float) -> list[np.ndarray]:
        """Codes ``(B, D)`` -> occupancy probabilities float32 ``(R, R, R)`` per object."""
        out = []
        for b in range(len(code)):
            c = code[b:b + 1]
            logits = field_logits(lambda p, c=c: model.decode(p[None], c)[0], resolution, _logit(threshold))
            out.append(torch.sigmoid(logits).numpy().astype(np.float32))
        return out

    @torch.inference_mode()
    def predict(self, model: nn.Module, images: torch.Tensor, threshold: float | None = None,
                resolution: int | None = None, **options) -> list[Prediction]:
        self.check_options(options)
        level = 0.5 if threshold is None else float(threshold)
        res = self.default_resolution if resolution is None else int(resolution)
        grids = self.fields(model, model.encode(images), res, level)
        return [Prediction("field", grid=g, threshold=level) for g in grids]

    def evaluate(self, model: nn.Module, dataset, views: int = 1, thresholds=(0.3, 0.4, 0.5, 0.6),
                 threshold: float | None = None, batch_size: int = 16, limit: int | None = None,
                 fscore: bool = False, quiet: bool = True, resolution: int | None = None) -> dict:
        """IoU at 32^3 (field at the cell centres vs ``voxels32``) at ``threshold`` and each of ``thresholds``, per
        category; with ``fscore`` also F-score@0.01/0.02 and Chamfer-L1 of the refined mesh extracted at
        ``resolution`` (default 128) against the ground-truth surface points (target ``points``)."""
        level = 0.5 if threshold is None else threshold
        scores = GridScores(thresholds, level)
        for batch in eval_batches(model, dataset, views, batch_size, limit, quiet):
            code = model.encode(batch["images"])
            probs = torch.from_numpy(np.stack(self.fields(model, code, 32, level)))  # dense at 32^3
            scores.add(probs, batch["voxels32"], batch["category"])
            if fscore:
                res = self.default_resolution if resolution is None else resolution
                for grid, pts in zip(self.fields(model, code, res, level), batch["points"].numpy(), strict=True):
                    mesh = self.to_mesh(Prediction("field", grid=grid, threshold=level))
                    scores.add_mesh(surface_points(mesh), pts)
        return scores.result(views)
