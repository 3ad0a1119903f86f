"""Training configuration: a YAML file merged over defaults, validated before any work starts."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import yaml

from lift3d.errors import InputError

DEFAULTS: dict = {
    "seed": 0,
    "model": {"name": "voxel", "image_size": 128, "fusion": "context",
              "refiner": True},
    "data": {"root": "data/default", "image_size": 128, "max_views": 4, "batch_size": 32, "augment": True,
             "val_views": [1, 4], "val_limit": None, "categories": None, "cache": False,
             "view_probs": None},
    "loss": {"bce": 1.0, "focal": 0.0, "iou": 0.5, "pos_weight": None, "coarse": 0.5},
    "optim": {"name": "adam", "lr": 1e-3, "weight_decay": 0.0, "momentum": 0.9},
    "schedule": {"name": "cosine", "warmup_steps": 100, "min_lr_ratio": 0.02, "step_epochs": 10, "gamma": 0.5},
    "train": {"epochs": 30, "max_minutes": None, "grad_clip": 5.0, "amp": "auto", "threads": None,
              "out": "runs/default", "thresholds": [0.3, 0.4, 0.5, 0.6], "calibrate_bn": 40, "val_every": 1},
}
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("cosine", "step", "onecycle", "constant")


def merge(base: dict, override: dict) -> dict:
    """Recursive dict merge (``override`` wins), returning a new dict."""
    out = copy.deepcopy(base)
    for k, v in (override or {}).items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def validate(cfg: dict) -> dict:
    """Check the values a typo would break; raises :class:`InputError` with the offending key."""
    unknown = set(cfg) - set(DEFAULTS)
    if unknown:
        raise InputError(f"unknown config section(s): {', '.join(sorted(unknown))}")
    if cfg["optim"]["name"] not in OPTIMIZERS:
        raise InputError(f"optim.name must be one of {OPTIMIZERS}, got {cfg['optim']['name']!r}")
    if cfg["schedule"]["name"] not in SCHEDULES:
        raise InputError(f"schedule.name must be one of {SCHEDULES}, got {cfg['schedule']['name']!r}")
    for key, val in (("optim.lr", cfg["optim"]["lr"]), ("data.batch_size", cfg["data"]["batch_size"]),
                     ("train.epochs", cfg["train"]["epochs"]), ("data.max_views", cfg["data"]["max_views"])):
        if not isinstance(val, int | float) or val <= 0:
            raise InputError(f"{key} must be a positive number, got {val!r}")
    if cfg["train"].get("amp") not in (True, False, "auto"):
        raise InputError(f"train.amp must be true, false or auto, got {cfg['train'].get('amp')!r}")
    probs = cfg["data"].get("view_probs")
    if probs is not None and (len(probs) != int(cfg["data"]["max_views"]) or min(probs) < 0 or sum(probs) <= 0):
        raise InputError(f"data.view_probs must list max_views non-negative weights, got {probs!r}")
    cfg["model"]["image_size"] = cfg["data"]["image_size"]
    return cfg


def load_config(path: str | os.PathLike | None = None, overrides: dict | None = None) -> dict:
    """Defaults <- YAML file <- ``overrides`` -> validated config dict."""
    cfg = DEFAULTS
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"config file not found: {p}")
        try:
            loaded = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as exc:
            raise InputError(f"config {p} is not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise InputError(f"config {p} must be a mapping of sections")
        cfg = merge(cfg, loaded)
    return validate(merge(cfg, overrides or {}))
