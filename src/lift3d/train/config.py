"""Training configuration: a YAML file merged over defaults, validated against one schema before anything is built.

:data:`FIELDS` is the schema: every key of the fixed sections (``seed``, ``data``, ``train``) with its type, range
and default, and the ranges of the keys the registry-built sections (``model``, ``loss``, ``optim``, ``schedule``)
share. Which keys a registry-built section may hold, and the types of the ones :data:`FIELDS` does not list, come
from the named entry's signature (a keyword whose default is ``64`` takes an integer). Every mistake is an
:class:`InputError` (or the registry's error) with one line naming the key.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import yaml

from lift3d.errors import InputError
from lift3d.train.schema import Bool, Int, ListOf, Num, OneOf, Str, check_sizes, check_value, spec_from_default

FIELDS = {
    "seed": Int(0, lo=0),
    # data: where the shapes come from and how batches are drawn
    "data.root": Str("data/default"),
    "data.layout": Str(None, optional=True),
    "data.image_size": Int(128, lo=16, hi=1024),
    "data.max_views": Int(4, lo=1, hi=64),
    "data.batch_size": Int(32, lo=1),
    "data.augment": Bool(True),
    "data.degrade": Bool(True),
    "data.val_views": ListOf(Int(lo=1, hi=64), [1, 4]),
    "data.val_limit": Int(None, lo=1, optional=True),
    "data.categories": ListOf(Str(), None, optional=True),
    "data.cache": Bool(False),
    "data.view_probs": ListOf(Num(lo=0), None, optional=True),
    # train: the loop
    "train.epochs": Int(30, lo=1),
    "train.max_minutes": Num(None, above=0, optional=True),
    "train.grad_clip": Num(5.0, lo=0, optional=True),
    "train.amp": OneOf(True, False, "auto", default="auto"),
    "train.threads": Int(None, lo=1, optional=True),
    "train.out": Str("runs/default"),
    "train.thresholds": ListOf(Num(above=0, below=1), [0.3, 0.4, 0.5, 0.6]),
    "train.calibrate_bn": Int(40, lo=0),
    "train.val_every": Int(1, lo=1),
    # registry-built sections: ranges of shared keys (their defaults are the entry's own)
    "optim.lr": Num(above=0),
    "optim.weight_decay": Num(lo=0),
    "optim.momentum": Num(lo=0, below=1),
    "optim.betas": ListOf(Num(lo=0, below=1), length=2),
    "schedule.warmup_steps": Int(lo=0),
    "schedule.min_lr_ratio": Num(lo=0, hi=1),
    "schedule.step_epochs": Int(lo=1),
    "schedule.gamma": Num(above=0),
    "schedule.peak_fraction": Num(above=0, hi=1),
    "loss.queries": Int(lo=1),
}
REGISTRY_SECTIONS = {  # section -> its default entry; a section naming another entry replaces it (see merge)
    "model": {"name": "voxel"},
    "loss": {},  # name defaults to the model's task's loss (voxel -> VoxelLoss)
    "optim": {"name": "adam", "lr": 1e-3},
    "schedule": {"name": "cosine"},
}
FIXED_SECTIONS = ("data", "train")  # sections with a fixed set of keys (those of FIELDS)
# Keys that do not change what a run computes, so `lift3d train --resume` may change them.
RESUME_FREE = ("train.max_minutes", "train.out", "train.threads", "data.root", "data.cache")


def _defaults() -> dict:
    out: dict = {"seed": FIELDS["seed"].default, **copy.deepcopy(REGISTRY_SECTIONS)}
    for section in FIXED_SECTIONS:
        out[section] = {k.split(".", 1)[1]: spec.default for k, spec in FIELDS.items() if k.startswith(section + ".")}
    return out


DEFAULTS: dict = _defaults()


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
    """Check ``cfg`` against :data:`FIELDS` and the registries; returns it with numbers normalised.

    Refuses unknown sections and keys (``train: {epoch: 5}``), values of the wrong type or range
    (``train.epochs: 0``, ``optim.lr: .nan``), and keys the named model / loss / optimiser / schedule does not
    take, naming the key, without building anything.
    """
    unknown = set(cfg) - set(DEFAULTS)
    if unknown:
        raise InputError(f"unknown config section(s): {', '.join(sorted(unknown))}")
    _check_sections({section: cfg.get(section) for section in (*FIXED_SECTIONS, *REGISTRY_SECTIONS)})
    for section in FIXED_SECTIONS:
        extra = sorted(set(cfg[section]) - set(DEFAULTS[section]))
        if extra:
            raise InputError(f"unknown config key(s) {', '.join(f'{section}.{k}' for k in extra)}; "
                             f"{section} takes: {', '.join(DEFAULTS[section])}")
    cfg["seed"] = check_value("seed", cfg["seed"], FIELDS["seed"])
    for section in FIXED_SECTIONS:
        for key in cfg[section]:
            cfg[section][key] = check_value(f"{section}.{key}", cfg[section][key], FIELDS[f"{section}.{key}"])
    probs = cfg["data"]["view_probs"]
    if probs is not None and (len(probs) != cfg["data"]["max_views"] or sum(probs) <= 0):
        raise InputError(f"data.view_probs must list max_views ({cfg['data']['max_views']}) non-negative weights "
                         f"with a positive sum, got {probs!r}")
    cfg["model"]["image_size"] = cfg["data"]["image_size"]
    _check_registry_sections(cfg)
    return cfg


def _check_sections(layer: dict, source: str = "config") -> None:
    """Refuse a section of ``layer`` (a config file, the command-line overrides or the merged config) that is not a
    mapping, before it is merged: merging ``{"out": ...}`` into ``train: [1, 2]`` would silently replace it."""
    for section, value in layer.items():
        if isinstance(DEFAULTS.get(section), dict) and not isinstance(value, dict):
            text = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise InputError(f"{source}: section {section} must be a mapping of keys, got {text}")


def _check_registry_sections(cfg: dict) -> None:
    """Keys and value types of ``model`` (and its ``encoder``), ``loss``, ``optim``, ``schedule`` against their
    entries' signatures; every integer of ``model`` is a size (:func:`~lift3d.train.schema.check_sizes`)."""
    from lift3d.losses import LOSSES
    from lift3d.models.encoders import ENCODERS
    from lift3d.models.registry import MODELS
    from lift3d.tasks import TASKS
    from lift3d.train.optim import OPTIMIZERS, SCHEDULES

    for section in REGISTRY_SECTIONS:
        if "name" in cfg[section]:
            check_value(f"{section}.name", cfg[section]["name"], Str())
    model_name = cfg["model"].get("name")
    MODELS.check(model_name, {k: v for k, v in cfg["model"].items() if k != "name"}, "model")
    default_loss = TASKS.get(MODELS.get(model_name).task).default_loss
    for section, registry, default, supplied in (
            ("model", MODELS, None, ()), ("loss", LOSSES, default_loss, ()),
            ("optim", OPTIMIZERS, None, ("params",)), ("schedule", SCHEDULES, None, ("total", "steps_per_epoch"))):
        _check_entry(cfg[section], section, registry, cfg[section].get("name", default), supplied,
                     sizes=section == "model")
    encoder = cfg["model"].get("encoder")
    if encoder is not None and "encoder" in (MODELS.parameters(model_name) or {}):
        if not isinstance(encoder, dict) or "name" not in encoder:
            raise InputError(f"model.encoder must be a mapping naming an encoder (e.g. {{name: resnet, depth: 18}}), "
                             f"got {encoder!r}"[:300])
        name = check_value("model.encoder.name", encoder.get("name"), Str())
        _check_entry(encoder, "model.encoder", ENCODERS, name, sizes=True)


def _check_entry(values: dict, section: str, registry, name: str | None, supplied: tuple[str, ...] = (),
                 sizes: bool = False) -> None:
    """The keys of ``values`` (the config ``section``, e.g. ``optim`` or ``model.encoder``) against the signature of
    ``registry``'s entry ``name``, and their values against :data:`FIELDS` or the entry's defaults (``sizes``: see
    :func:`~lift3d.train.schema.spec_from_default`); values normalised in place."""
    kw = {k: v for k, v in values.items() if k != "name"}
    registry.check(name, kw, section, supplied)
    params = registry.parameters(name, supplied) or {}
    for key, value in kw.items():
        spec = FIELDS.get(f"{section}.{key}") or spec_from_default(params.get(key), sizes=sizes)
        values[key] = check_value(f"{section}.{key}", value, spec)
        if sizes:
            check_sizes(f"{section}.{key}", values[key])


def _read_yaml(p: Path) -> object:
    """The YAML document in ``p``; a binary file or a syntax error is one line (with line and column)."""
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"config {p} is not a text (UTF-8) file: undecodable byte at offset {exc.start}") from exc
    except OSError as exc:
        raise InputError(f"cannot read config {p}: {exc.strerror or exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"config {p} is not valid YAML{where}: {problem}") from exc


def load_config(path: str | os.PathLike | None = None, overrides: dict | None = None) -> dict:
    """Defaults <- YAML file <- ``overrides`` -> validated config dict.

    A config file must name the model it trains (``model: {name: voxel}``): an empty file, or one that leaves the
    model to the defaults, is refused rather than silently training the default model with default settings.
    """
    cfg, loaded = DEFAULTS, None
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"config file not found: {p}")
        loaded = _read_yaml(p)
        if loaded is None:
            raise InputError(f"config {p} is empty; it must at least name the model to train, e.g. "
                             "`model: {name: voxel}` (see configs/)")
        if not isinstance(loaded, dict):
            raise InputError(f"config {p} must be a mapping of sections, got a {type(loaded).__name__}")
        _check_sections(loaded, f"config {p}")
        cfg = merge(cfg, loaded)
    _check_sections(overrides or {}, "overrides")
    cfg = validate(merge(cfg, overrides or {}))
    if loaded is not None and (not isinstance(loaded.get("model"), dict) or "name" not in loaded["model"]):
        raise InputError(f"config {path} names no model; add e.g. `model: {{name: voxel}}` (see configs/)")
    return cfg


def config_differences(saved: dict, current: dict, free: tuple[str, ...] = RESUME_FREE) -> list[str]:
    """``key: saved -> current`` for every setting (dotted key) in which two configs differ, except ``free`` keys
    (and their sub-keys); compared as JSON, so a tuple equals a list."""
    a, b = _flatten(json.loads(json.dumps(saved))), _flatten(json.loads(json.dumps(current)))
    keys = sorted(k for k in set(a) | set(b)
                  if a.get(k, "<unset>") != b.get(k, "<unset>") and not any(k == f or k.startswith(f + ".")
                                                                              for f in free))
    return [f"{k}: {a.get(k, '<unset>')!r} -> {b.get(k, '<unset>')!r}" for k in keys]


def _flatten(d: dict, prefix: str = "") -> dict:
    out: dict = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out
