"""Training configuration: a YAML file merged over defaults, validated before any work starts."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import yaml

from lift3d.errors import InputError

DEFAULTS: dict = {
    "seed": 0,
    # Sections built by name through a registry hold only the name here: each entry's own keyword defaults apply,
    # and a key its entry does not take is an error (see validate).
    "model": {"name": "voxel"},
    "data": {"root": "data/default", "image_size": 128, "max_views": 4, "batch_size": 32, "augment": True,
             "degrade": True, "val_views": [1, 4], "val_limit": None, "categories": None, "cache": False,
             "view_probs": None, "layout": None},
    "loss": {},  # name defaults to the model's task's loss (voxel -> VoxelLoss)
    "optim": {"name": "adam", "lr": 1e-3},
    "schedule": {"name": "cosine"},
    "train": {"epochs": 30, "max_minutes": None, "grad_clip": 5.0, "amp": "auto", "threads": None,
              "out": "runs/default", "thresholds": [0.3, 0.4, 0.5, 0.6], "calibrate_bn": 40, "val_every": 1},
}
FIXED_SECTIONS = ("data", "train")  # sections with a fixed set of keys (the keys of DEFAULTS)


def merge(base: dict, override: dict) -> dict:
    """Recursive dict merge (``override`` wins), returning a new dict.

    A mapping that names a different registry entry than the one it overrides (``{"name": "sgd"}`` over
    ``{"name": "adam", ...}``) replaces it whole: the old entry's keys mean nothing to the new one.
    """
    out = copy.deepcopy(base)
    for k, v in (override or {}).items():
        old = out.get(k)
        renamed = isinstance(v, dict) and isinstance(old, dict) and "name" in v and v["name"] != old.get("name")
        out[k] = merge(old, v) if isinstance(v, dict) and isinstance(old, dict) and not renamed else copy.deepcopy(v)
    return out


def validate(cfg: dict) -> dict:
    """Refuse unknown sections and keys (``train: {epoch: 5}``), and values a typo would break; raises
    :class:`InputError` naming the key. Keys of registry-built sections (model, loss, optim, schedule) are
    checked against the parameters of the named entry, without building it."""
    from lift3d.losses import LOSSES
    from lift3d.models.registry import MODELS
    from lift3d.tasks import TASKS
    from lift3d.train.optim import OPTIMIZERS, SCHEDULES

    unknown = set(cfg) - set(DEFAULTS)
    if unknown:
        raise InputError(f"unknown config section(s): {', '.join(sorted(unknown))}")
    for section in FIXED_SECTIONS:
        if not isinstance(cfg[section], dict):
            raise InputError(f"config section {section} must be a mapping, got {cfg[section]!r}")
        extra = sorted(set(cfg[section]) - set(DEFAULTS[section]))
        if extra:
            raise InputError(f"unknown config key(s) {', '.join(f'{section}.{k}' for k in extra)}; "
                             f"{section} takes: {', '.join(DEFAULTS[section])}")
    for section in ("model", "loss", "optim", "schedule"):
        if not isinstance(cfg[section], dict):
            raise InputError(f"config section {section} must be a mapping, got {cfg[section]!r}")
    for key, val in (("optim.lr", cfg["optim"].get("lr", 1)), ("data.batch_size", cfg["data"]["batch_size"]),
                     ("train.epochs", cfg["train"]["epochs"]), ("data.max_views", cfg["data"]["max_views"])):
        if not isinstance(val, int | float) or val <= 0:
            raise InputError(f"{key} must be a positive number, got {val!r}")
    if cfg["train"].get("amp") not in (True, False, "auto"):
        raise InputError(f"train.amp must be true, false or auto, got {cfg['train'].get('amp')!r}")
    if not isinstance(cfg["data"]["degrade"], bool):
        raise InputError(f"data.degrade must be true or false, got {cfg['data']['degrade']!r}")
    probs = cfg["data"].get("view_probs")
    if probs is not None and (len(probs) != int(cfg["data"]["max_views"]) or min(probs) < 0 or sum(probs) <= 0):
        raise InputError(f"data.view_probs must list max_views non-negative weights, got {probs!r}")
    cfg["model"]["image_size"] = cfg["data"]["image_size"]
    model_name = cfg["model"].get("name")
    MODELS.check(model_name, {k: v for k, v in cfg["model"].items() if k != "name"}, "model")
    task = TASKS.get(MODELS.get(model_name).task)
    loss = dict(cfg["loss"])
    LOSSES.check(loss.pop("name", task.default_loss), loss, "loss")
    for section, registry, supplied in (("optim", OPTIMIZERS, ("params",)),
                                        ("schedule", SCHEDULES, ("total", "steps_per_epoch"))):
        kw = dict(cfg[section])
        registry.check(kw.pop("name", None), kw, section, supplied)
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
