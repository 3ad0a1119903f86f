"""Image(s) of one object -> the model's structure (grid, points, field) -> mesh, on the shipped default model or a
checkpoint. Everything representation-specific goes through the model's task (:mod:`lift3d.tasks`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh

from lift3d.data.preprocess import foreground_mask, prepare_image
from lift3d.errors import InputError, ModelError
from lift3d.io.images import load_image, load_mask
from lift3d.models.checkpoint import WEIGHTS_DIR
from lift3d.tasks.base import Prediction, Task

SHIPPED = {"voxel": "default.safetensors", "points": "points.safetensors", "occupancy": "occupancy.safetensors"}
DEFAULT_MODEL = "voxel"


def shipped_checkpoint(model: str | None = None) -> Path:
    """Path of the shipped weights of ``model`` (a name in :data:`SHIPPED`; None = :data:`DEFAULT_MODEL`)."""
    name = DEFAULT_MODEL if model is None else model
    if name not in SHIPPED:
        raise InputError(f"unknown model {name!r}; shipped models: {', '.join(SHIPPED)}")
    path = WEIGHTS_DIR / SHIPPED[name]
    if not path.is_file():
        raise ModelError(f"the {name} model's weights are missing ({path}); train them (README: reproducing the "
                         "shipped weights) or pass --checkpoint")
    return path



@dataclass
class Reconstruction:
    """Result of one reconstruction.

    Attributes:
        prediction: the model's structure (grid, points or field; :class:`lift3d.tasks.base.Prediction`).
        mesh: the refined surface mesh (canonical frame), or ``None`` when nothing was reconstructed.
        task: the model's task, which turns the prediction into what each file format holds.
        timings: seconds per stage (``preprocess``, ``forward``, ``mesh``).
        masks: the bool ``(H, W)`` foreground of each input view (given or computed), for texturing.
    """

    prediction: Prediction
    mesh: trimesh.Trimesh | None
    task: Task
    timings: dict[str, float] = field(default_factory=dict)
    masks: list[np.ndarray] = field(default_factory=list)

    @property
    def probabilities(self) -> np.ndarray:
        """float32 ``(D, D, D)`` occupancy probabilities over the canonical cube (grid predictions only)."""
        if self.prediction.grid is None:
            raise InputError(f"a {self.prediction.kind} reconstruction has no probability grid")
        return self.prediction.grid

    @property
    def threshold(self) -> float:
        return self.prediction.threshold

    @property
    def occupancy(self) -> np.ndarray:
        """bool ``(D, D, D)`` over the canonical cube (a point model's surface is voxelised)."""
        return self.task.to_voxels(self.prediction, self.mesh)

    def points(self, n: int = 16384) -> tuple[np.ndarray, np.ndarray | None]:
        """Points ``(N, 3)`` + normals: a point model's own points, else ``n`` samples of the mesh."""
        return self.task.to_points(self.prediction, self.mesh, n)

    def summary(self) -> str:
        """One phrase for the CLI: occupied cells of a grid, or the number of predicted points."""
        if self.prediction.grid is not None:
            g = self.prediction.grid
            return f"{int((g >= self.threshold).sum())} occupied cells of {g.shape[0]}^3"
        return f"{len(self.prediction.points)} points"

    def empty_message(self) -> str:
        """Why nothing was reconstructed, for the error a writer raises."""
        if self.prediction.grid is not None:
            return (f"nothing was reconstructed: no cell reaches the threshold {self.threshold:.2f} "
                    f"(max probability {float(self.prediction.grid.max()):.2f}); try a lower --threshold")
        return f"nothing was reconstructed: the {self.prediction.kind} model gave no surface"


class Reconstructor:
    """Loads a model once and reconstructs objects from one or more views, through the model's task.

    Args:
        checkpoint: a ``.safetensors`` checkpoint written by the trainer; ``None`` = shipped default.
        threads: torch intra-op threads (``None`` leaves torch's default).
    """

    def __init__(self, checkpoint: str | os.PathLike | None = None, threads: int | None = None) -> None:
        import torch

        from lift3d.models.checkpoint import load_model
        from lift3d.tasks import task_for_model

        if threads:
            torch.set_num_threads(threads)
        path = Path(checkpoint) if checkpoint is not None else shipped_checkpoint()
        if not path.is_file():
            raise ModelError(f"checkpoint not found: {path}")
        self.model, self.config, self.meta = load_model(path)
        self.model.eval()
        self.task = task_for_model(self.model)
        from lift3d.models.inference import use_onednn

        use_onednn(self.model)  # batch-1 convolutions through oneDNN: 41.7 -> 21.5 ms per forward on 2 AVX2 cores
        data_cfg = self.config.get("data", {}) if isinstance(self.config, dict) else {}
        self.image_size = int(data_cfg.get("image_size", 128))
        self.default_threshold = float(self.meta.get("threshold", 0.5)) if isinstance(self.meta, dict) else 0.5

    def prepare(self, images: list[np.ndarray], masks: list[np.ndarray | None] | None = None) -> np.ndarray:
        """RGBA uint8 views ``[(H, W, 4)]`` (+ optional bool masks) -> float32 ``(1, V, 3, S, S)``."""
        if not images:
            raise InputError("no input image given")
        masks = masks or [None] * len(images)
        if len(masks) != len(images):
            raise InputError(f"{len(masks)} masks given for {len(images)} images")
        views = [prepare_image(rgba, m, size=self.image_size)[0] for rgba, m in zip(images, masks, strict=True)]
        return np.stack(views)[None].astype(np.float32)

    def predict(self, batch: np.ndarray, threshold: float | None = None, **options) -> list[Prediction]:
        """float32 ``(B, V, 3, S, S)`` -> one :class:`Prediction` per object."""
        import torch

        level = self.check_threshold(threshold)
        return self.task.predict(self.model, torch.from_numpy(batch), threshold=level, **options)

    def check_threshold(self, threshold: float | None) -> float:
        """The occupancy level to use: ``threshold``, else the checkpoint's (chosen on validation shapes)."""
        if threshold is None:
            return self.default_threshold
        if not self.task.thresholded:
            raise InputError(f"--threshold does not apply to a {self.task.name} model")
        if not 0.0 < float(threshold) < 1.0:
            raise InputError(f"threshold must be between 0 and 1, got {threshold}")
        return float(threshold)

    def reconstruct(self, images: list[np.ndarray], masks: list[np.ndarray | None] | None = None,
                    threshold: float | None = None, smooth_iterations: int = 10, **options) -> Reconstruction:
        """Views of one object -> :class:`Reconstruction` (the prediction and its refined mesh).

        ``options`` are the task's inference options (``resolution`` for an occupancy model); one the task does
        not use is an :class:`InputError`.
        """
        import time

        self.task.check_options(options)
        self.check_threshold(threshold)  # refuse a bad value before any work
        t0 = time.perf_counter()
        if masks is not None and len(masks) != len(images):
            raise InputError(f"{len(masks)} masks given for {len(images)} images")
        masks = [foreground_mask(im) if m is None else np.asarray(m, bool)
                 for im, m in zip(images, masks or [None] * len(images), strict=True)]
        batch = self.prepare(images, masks)
        t1 = time.perf_counter()
        pred = self.predict(batch, threshold, **options)[0]
        t2 = time.perf_counter()
        mesh = self.task.to_mesh(pred, smooth_iterations)
        t3 = time.perf_counter()
        timings = {"preprocess": t1 - t0, "forward": t2 - t1, "mesh": t3 - t2}
        return Reconstruction(pred, mesh, self.task, timings, masks)

    def reconstruct_files(self, paths: list[str | os.PathLike], mask_paths: list[str | os.PathLike] | None = None,
                          **kwargs) -> Reconstruction:
        """Like :meth:`reconstruct`, reading images (and optional masks) from files."""
        images = [load_image(p) for p in paths]
        masks = None
        if mask_paths:
            if len(mask_paths) != len(paths):
                raise InputError(f"{len(mask_paths)} masks given for {len(paths)} images")
            masks = [load_mask(m, img.shape[:2]) for m, img in zip(mask_paths, images, strict=True)]
        return self.reconstruct(images, masks, **kwargs)
