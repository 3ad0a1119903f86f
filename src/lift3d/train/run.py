"""Build datasets from a config and run the trainer (shared by the CLI and the torchrun entry point)."""

from __future__ import annotations

import os

from lift3d.train.config import load_config
from lift3d.train.trainer import Trainer


def datasets_from_config(cfg: dict):
    """``(train, val)`` :class:`~lift3d.data.dataset.ShapeDataset` s as the ``data`` section says."""
    from lift3d.data.dataset import ShapeDataset

    d = cfg["data"]
    common = dict(targets=("voxels32",), image_size=int(d["image_size"]), categories=d.get("categories"))
    cache = bool(d.get("cache", False))
    train = ShapeDataset(d["root"], "train", views=1, augment=bool(d["augment"]), seed=int(cfg["seed"]),
                         cache=cache, **common)
    val = ShapeDataset(d["root"], "val", views=1, augment=False, cache=cache, **common)
    return train, val


def run_training(config_path: str | os.PathLike, overrides: dict | None = None, resume: bool = False,
                 quiet: bool = False) -> dict:
    """Load the config, build data and model, train; returns the last epoch's metrics."""
    cfg = load_config(config_path, overrides)
    train, val = datasets_from_config(cfg)
    return Trainer(cfg, train, val, quiet=quiet).fit(resume=resume)
