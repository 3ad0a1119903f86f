"""Build datasets from a config and run the trainer (shared by the CLI and the torchrun entry point)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from lift3d.train.config import load_config
from lift3d.train.trainer import Trainer

if TYPE_CHECKING:
    from lift3d.data.protocol import ShapeDatasetProtocol


def datasets_from_config(cfg: dict, targets: tuple[str, ...] = ("voxels32",)
                         ) -> tuple[ShapeDatasetProtocol, ShapeDatasetProtocol]:
    """``(train, val)`` datasets of ``data.root`` in any registered layout (a lift3d dataset, ShapeNet-R2N2, Pix3D;
    detected by :func:`lift3d.data.readers.open_dataset`), with the ground truth ``targets``, as the ``data``
    section says; ``data.degrade`` (with ``data.augment``) degrades the training views like real photos
    (:mod:`lift3d.data.degrade`).

    A folder without images (ModelNet, a folder of meshes) raises :class:`~lift3d.errors.DatasetError` saying how to
    render it (``lift3d data generate --meshes``).
    """
    from lift3d.data.readers import open_dataset

    d = cfg["data"]
    common = dict(targets=tuple(targets), image_size=int(d["image_size"]), categories=d.get("categories"),
                  cache=bool(d.get("cache", False)), layout=d.get("layout"))  # layout None = detected
    train = open_dataset(d["root"], split="train", views=1, augment=bool(d["augment"]), seed=int(cfg["seed"]),
                         **common)
    train.degrade = bool(d["degrade"])  # photo-like degradations (with augment); val is never degraded
    val = open_dataset(d["root"], split="val", views=1, augment=False, **common)
    return train, val


def run_training(config_path: str | os.PathLike, overrides: dict | None = None, resume: bool = False,
                 quiet: bool = False) -> dict:
    """Load the config, build data (with the targets the model's task needs) and model, train; returns the last
    epoch's metrics."""
    from lift3d.tasks import task_from_config

    cfg = load_config(config_path, overrides)
    train, val = datasets_from_config(cfg, targets=task_from_config(cfg).targets)
    return Trainer(cfg, train, val, quiet=quiet).fit(resume=resume)
