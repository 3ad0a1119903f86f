"""The model contract: what a representation (voxels, points, an occupancy field...) tells the rest of lift3d.

A :class:`Task` declares the dataset targets its loss needs, builds its loss by name from the config's ``loss``
section, runs one training step (a hook that a two-optimiser GAN or a VAE with an extra KL term overrides),
scores a model on a dataset, and turns network output into a :class:`Prediction` (grid, points or field) and that
into a mesh, points or voxels for the writers. The trainer, evaluation, calibration and the reconstruction
pipeline call only this interface; a new representation is a new ``Task`` registered in
:data:`lift3d.tasks.TASKS` plus a model whose class attribute ``task`` names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import trimesh
from torch import nn
from tqdm import tqdm

from lift3d.errors import InputError


@dataclass
class Prediction:
    """One object's predicted structure, in the canonical frame (object in the cube ``[-0.5, 0.5]^3``, +Y up).

    Attributes:
        kind: ``voxels`` (a grid the network predicts cell by cell), ``field`` (an implicit occupancy function
            sampled on a grid) or ``points`` (a point set).
        grid: float32 ``(D, D, D)`` occupancy probabilities over the cube (``voxels`` and ``field``), else None.
        points: float32 ``(N, 3)`` (``points``), else None.
        threshold: occupancy level of ``grid``.
    """

    kind: str
    grid: np.ndarray | None = None
    points: np.ndarray | None = None
    threshold: float = 0.5

    @property
    def occupancy(self) -> np.ndarray:
        """bool ``(D, D, D)``; only for grid predictions."""
        if self.grid is None:
            raise InputError(f"a {self.kind} prediction has no occupancy grid")
        return self.grid >= self.threshold


@dataclass
class StepContext:
    """What :meth:`Task.training_step` may use: the network, its optimisers (by group name) and one batch.

    ``net`` is the model as trained (wrapped by DistributedDataParallel when distributed), ``model`` the bare
    module (for parameters and sub-modules).
    """

    net: nn.Module
    model: nn.Module
    optimizers: dict[str, torch.optim.Optimizer]
    batch: dict
    amp: bool = False
    clip: float | None = None

    def forward(self, *inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """``net(*inputs)`` under bf16 autocast when enabled."""
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.amp):
            return self.net(*inputs)

    def update(self, loss: torch.Tensor, group: str = "main") -> None:
        """Zero the group's gradients, back-propagate ``loss``, clip the group's gradient norm, step."""
        opt = self.optimizers[group]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.clip:
            params = [p for g in opt.param_groups for p in g["params"]]
            nn.utils.clip_grad_norm_(params, float(self.clip))
        opt.step()


class Task:
    """Base class of a representation's contract. Subclasses set the class attributes and the abstract methods.

    Class attributes:
        name: registry name.
        targets: dataset target keys (``ShapeDataset(targets=...)``) that training and validation need.
        score: name of the validation metric that selects the best checkpoint (higher is better).
        default_loss: loss registry name used when the ``loss`` section names none.
        thresholded: predictions are occupancy probabilities with a threshold chosen on validation shapes.
        options: inference options :meth:`predict` accepts (for example ``resolution``).
    """

    name: ClassVar[str] = ""
    targets: ClassVar[tuple[str, ...]] = ()
    score: ClassVar[str] = "iou"
    default_loss: ClassVar[str] = ""
    thresholded: ClassVar[bool] = True
    options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, loss: dict | None = None) -> None:
        from lift3d.losses import LOSSES

        self.loss_fn = LOSSES.build_config(loss, default=self.default_loss)

    # ---------------------------------------------------------------- training
    def prepare(self, batch: dict, train: bool = True) -> dict:
        """The batch as the network and the loss need it (identity by default; an occupancy task draws the query
        points of this step here). Random draws use torch's RNG, which checkpoints save, so resume is exact."""
        return batch

    def inputs(self, batch: dict) -> tuple[torch.Tensor, ...]:
        """Positional inputs of the network for a prepared batch: ``(images (B, V, 3, S, S),)`` by default."""
        return (batch["images"],)

    def optimizer_groups(self, model: nn.Module) -> dict[str, list[nn.Parameter]]:
        """Parameters per optimiser; one ``main`` group by default (a GAN returns generator + discriminator)."""
        return {"main": [p for p in model.parameters() if p.requires_grad]}

    def loss(self, out: dict[str, torch.Tensor], batch: dict) -> torch.Tensor:
        """Scalar training loss of network output ``out`` against ``batch``'s targets."""
        return self.loss_fn(out, batch)

    def train_metrics(self, out: dict[str, torch.Tensor], batch: dict) -> dict[str, float]:
        """Cheap per-batch metrics for the progress bar and the log (``{"train_iou": ...}``)."""
        return {}

    def training_step(self, ctx: StepContext) -> dict[str, float]:
        """One optimisation step on ``ctx.batch`` -> logged numbers (must include ``loss``).

        Override for models that need more than forward / loss / backward / step: a GAN updates its
        discriminator and generator with two optimisers (:meth:`optimizer_groups`); a VAE only adds its KL term
        in :meth:`loss`, since ``out`` carries whatever the network returns.
        """
        batch = self.prepare(ctx.batch)
        out = ctx.forward(*self.inputs(batch))
        loss = self.loss(out, batch)
        ctx.update(loss)
        with torch.no_grad():
            return {"loss": float(loss.item()), **self.train_metrics(out, batch)}

    # ---------------------------------------------------------------- evaluation
    def evaluate(self, model: nn.Module, dataset, views: int = 1, thresholds=(0.3, 0.4, 0.5, 0.6),
                 threshold: float | None = None, batch_size: int = 16, limit: int | None = None,
                 fscore: bool = False, quiet: bool = True) -> dict:
        """Metrics of ``model`` on ``dataset`` with ``views`` views per shape.

        Returns at least ``views``, ``n``, ``score`` (the value of :attr:`score`), ``per_category`` {category:
        score}; thresholded tasks also ``iou_at`` {threshold: value}, ``best_threshold`` and ``threshold``; with
        ``fscore`` the mesh metrics ``fscore@0.01``, ``fscore@0.02``, ``chamfer_l1``.
        """
        raise NotImplementedError

    def validate(self, model: nn.Module, dataset, config: dict, per_category: bool = False) -> dict:
        """The validation numbers the trainer logs and checkpoints: per view count in ``data.val_views``,
        ``val_<score>_<v>v`` (and ``val_threshold_<v>v``), their mean ``val_<score>`` = ``val_score``, and the
        ``threshold`` chosen with the first view count."""
        d = config["data"]
        res: dict = {}
        scores = []
        for v in d["val_views"]:
            r = self.evaluate(model, dataset, views=int(v), thresholds=config["train"]["thresholds"],
                              limit=d.get("val_limit"))
            best = r.get("best_threshold")
            res[f"val_{self.score}_{v}v"] = r["iou_at"][best] if best is not None else r["score"]
            if best is not None:
                res[f"val_threshold_{v}v"] = best
            if per_category:
                res[f"val_per_category_{v}v"] = r["per_category"]
            scores.append(res[f"val_{self.score}_{v}v"])
        res[f"val_{self.score}"] = res["val_score"] = float(np.mean(scores))
        first = f"val_threshold_{d['val_views'][0]}v"
        if first in res:
            res["threshold"] = res[first]
        return res

    # ---------------------------------------------------------------- inference
    def predict(self, model: nn.Module, images: torch.Tensor, threshold: float | None = None,
                **options) -> list[Prediction]:
        """Images ``(B, V, 3, S, S)`` -> one :class:`Prediction` per object (model in eval mode, no grad)."""
        raise NotImplementedError

    def check_options(self, options: dict) -> None:
        """Refuse inference options this task does not use (``--resolution`` for a voxel model...)."""
        unknown = sorted(k for k, v in options.items() if v is not None and k not in self.options)
        if unknown:
            raise InputError(f"option(s) {', '.join(unknown)} do not apply to a {self.name} model"
                             + (f"; it takes: {', '.join(self.options)}" if self.options else ""))

    def to_mesh(self, pred: Prediction, smooth_iterations: int = 10) -> trimesh.Trimesh | None:
        """The prediction's surface (canonical frame), cleaned and smoothed; None when it is empty."""
        from lift3d.geometry.voxels import voxels_to_mesh
        from lift3d.postprocess import refine

        if pred.grid is None:
            raise NotImplementedError(f"{self.name} must implement to_mesh")
        if float(pred.grid.max()) < pred.threshold:
            return None
        return refine(voxels_to_mesh(pred.grid, level=pred.threshold), smooth_iters=smooth_iterations)

    def to_points(self, pred: Prediction, mesh: trimesh.Trimesh | None, n: int = 16384,
                  ) -> tuple[np.ndarray, np.ndarray | None]:
        """Points ``(N, 3)`` and normals ``(N, 3)`` for the point formats: samples of the mesh by default."""
        from lift3d.geometry.sampling import sample_surface

        if mesh is None:
            raise InputError("nothing was reconstructed, so there are no points to write")
        return sample_surface(mesh, n, seed=0)

    def to_voxels(self, pred: Prediction, mesh: trimesh.Trimesh | None) -> np.ndarray:
        """bool ``(D, D, D)`` occupancy over the canonical cube for the voxel formats."""
        return pred.occupancy


def eval_batches(model: nn.Module, dataset, views: int, batch_size: int = 16, limit: int | None = None,
                 quiet: bool = True) -> Iterator[dict]:
    """Yield collated batches of the first ``limit`` items of ``dataset`` with ``views`` views, the model in eval
    mode and autograd off (both restored afterwards)."""
    from lift3d.data.dataset import collate

    was_training = model.training
    model.eval()
    dataset.set_num_views(views)
    n = len(dataset) if limit is None else min(limit, len(dataset))
    try:
        with torch.inference_mode():
            for start in tqdm(range(0, n, batch_size), desc=f"eval {views}v", disable=quiet, leave=False):
                yield collate([dataset[i] for i in range(start, min(n, start + batch_size))])
    finally:
        model.train(was_training)


def surface_points(mesh: trimesh.Trimesh | None, n: int = 10000) -> np.ndarray | None:
    """``n`` seeded samples ``(n, 3)`` of a mesh's surface (None for no mesh), as the mesh metrics use them."""
    from lift3d.geometry.sampling import sample_surface

    return None if mesh is None else sample_surface(mesh, n, seed=0)[0]


class GridScores:
    """Accumulates the metrics of grid predictions: IoU at several thresholds against 32^3 ground truth, per
    category, and (optionally) mesh metrics; :meth:`result` gives the dict :meth:`Task.evaluate` returns."""

    def __init__(self, thresholds, level: float) -> None:
        self.level = level
        self.ious: dict[float, list[float]] = {t: [] for t in sorted(set(thresholds) | {level})}
        self.cats: list[str] = []
        self.mesh: dict[str, list[float]] = {"fscore@0.01": [], "fscore@0.02": [], "chamfer_l1": []}

    def add(self, probs: torch.Tensor, target: torch.Tensor, categories: list[str]) -> None:
        """Probabilities ``(B, D, D, D)`` vs target occupancy ``(B, D, D, D)`` of shapes in ``categories``."""
        from lift3d.metrics.voxel import voxel_iou

        for t in self.ious:
            self.ious[t] += voxel_iou(probs, target, t).tolist()
        self.cats += list(categories)

    def add_mesh(self, surface: np.ndarray | None, gt_points: np.ndarray) -> None:
        """Surface samples ``(N, 3)`` of one predicted mesh (None: nothing predicted) vs GT points ``(P, 3)``."""
        for k, v in mesh_scores(surface, gt_points).items():
            self.mesh[k].append(v)

    def result(self, views: int) -> dict:
        iou_at = {t: float(np.mean(v)) for t, v in self.ious.items()}
        arr = np.asarray(self.ious[self.level])
        mean = float(arr.mean())
        out = {"views": views, "n": len(arr), "threshold": self.level, "iou": mean, "score": mean, "iou_at": iou_at,
               "best_threshold": max(iou_at, key=iou_at.get), "per_category": per_category(arr, self.cats)}
        if self.mesh["chamfer_l1"]:
            out.update({k: float(np.mean(v)) for k, v in self.mesh.items()})
        return out


def per_category(values, categories: list[str]) -> dict[str, float]:
    """Mean of per-shape ``values`` for each category (sorted by name)."""
    arr = np.asarray(values, np.float64)
    cats = np.asarray(categories)
    return {c: float(arr[cats == c].mean()) for c in sorted(set(categories))}


def mesh_scores(pred_points: np.ndarray | None, gt_points: np.ndarray, n: int = 10000) -> dict[str, float]:
    """F-score at tau 0.01 / 0.02 and Chamfer-L1 of predicted surface points ``(N, 3)`` (None: nothing was
    predicted, scored as the worst case) against ground-truth surface points ``(P, 3)``, canonical frame."""
    from lift3d.metrics import chamfer_distance, fscore

    if pred_points is None or len(pred_points) == 0:
        return {"fscore@0.01": 0.0, "fscore@0.02": 0.0, "chamfer_l1": 1.0}
    gt = gt_points[np.random.default_rng(0).choice(len(gt_points), min(n, len(gt_points)), replace=False)]
    return {"fscore@0.01": float(fscore(pred_points, gt, 0.01)), "fscore@0.02": float(fscore(pred_points, gt, 0.02)),
            "chamfer_l1": float(chamfer_distance(pred_points, gt)["l1"])}
