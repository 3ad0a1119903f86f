"""Checkpoints: weights in safetensors, with the config and metadata as JSON in its header.

A checkpoint is self-describing: ``load_model(path)`` rebuilds the network from the stored config through
the registry, with no code changes and no pickle (safetensors cannot execute code on load).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import nn

from lift3d.errors import Lift3DError, ModelError
from lift3d.io.atomic import atomic_path
from lift3d.io.checks import reason
from lift3d.models.registry import build_model

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"  # lift3d/weights: the package's own checkpoints
BUILD_ERRORS = (RuntimeError, ValueError, TypeError, NotImplementedError, LookupError, ArithmeticError, AttributeError)
"""What building a model from out-of-range hyper-parameters raises (torch and the model constructors): a width of 0
fails as an IndexError in a forward pass used to size a layer, a huge one as an OverflowError..."""


def save_tensors(path: str | os.PathLike, tensors: dict[str, torch.Tensor], header: dict) -> None:
    """Atomically write tensors + a JSON-serialisable ``header`` (stored as safetensors metadata)."""
    meta = {k: json.dumps(v) for k, v in header.items()}
    clean = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(clean, str(tmp), metadata=meta)


def _open_error(p: Path, exc: Exception) -> ModelError:
    return ModelError(f"{p} is not a valid lift3d checkpoint: {reason(exc)}")


def read_header(path: str | os.PathLike) -> tuple[dict, dict[str, tuple[int, ...]]]:
    """The JSON header and the shape of every tensor of a checkpoint, without reading any tensor data."""
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"checkpoint not found: {p}")
    try:
        with safe_open(str(p), framework="pt") as f:
            raw = f.metadata() or {}
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118 (not a dict)
        header = {k: json.loads(v) for k, v in raw.items()}
    except (SafetensorError, OSError, ValueError, json.JSONDecodeError) as exc:
        raise _open_error(p, exc) from exc
    except RecursionError as exc:  # json's parser recurses once per nesting level: a hostile header runs out of stack
        raise ModelError(f"{p} is not a valid lift3d checkpoint: its JSON header is nested too deeply") from exc
    return header, shapes


def load_tensors(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict]:
    """Read tensors and the JSON header written by :func:`save_tensors`."""
    p = Path(path)
    header, _ = read_header(p)
    try:
        tensors = load_file(str(p))
    except (SafetensorError, OSError, ValueError) as exc:
        raise _open_error(p, exc) from exc
    return tensors, header


def save_checkpoint(path: str | os.PathLike, model: nn.Module, config: dict, meta: dict | None = None) -> None:
    """Weights (incl. batch-norm buffers) + ``config`` (with ``config["model"]`` for the registry) + ``meta``."""
    model = getattr(model, "module", model)  # unwrap DistributedDataParallel
    save_tensors(path, model.state_dict(), {"config": config, "meta": meta or {}})


def _names(keys: list[str]) -> str:
    return ", ".join(keys[:3]) + (", ..." if len(keys) > 3 else "")


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) or "a scalar"


def mismatch(expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]]) -> str | None:
    """One line on how a checkpoint's tensor shapes ``found`` differ from a model's ``expected`` (counts of
    missing, unexpected and wrongly shaped tensors, the first 3 names of each); None when they match."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    shaped = sorted(k for k in set(expected) & set(found) if tuple(expected[k]) != tuple(found[k]))
    parts = [f"{len(missing)} missing ({_names(missing)})" if missing else "",
             f"{len(unexpected)} unexpected ({_names(unexpected)})" if unexpected else "",
             (f"{len(shaped)} of another shape (" + ", ".join(f"{k} is {_dims(found[k])} in the file, "
                                                             f"{_dims(expected[k])} in the model" for k in shaped[:3])
              + (", ..." if len(shaped) > 3 else "") + ")") if shaped else ""]
    text = "; ".join(x for x in parts if x)
    return text or None


def _check_shapes(model: nn.Module, shapes: dict[str, tuple[int, ...]], p: Path) -> None:
    why = mismatch({k: tuple(v.shape) for k, v in model.state_dict().items()}, shapes)
    if why:
        raise ModelError(f"weights in {p} do not match its model configuration: {why}")


def _meta_model(config: dict) -> nn.Module | None:
    """The model of ``config`` built on the ``meta`` device (shapes, no memory); None when it cannot be built there
    (then :func:`load_model` bounds it by the file's tensors and the real build reports any error)."""
    try:
        with torch.device("meta"):
            return build_model(config)
    except ModelError:
        raise
    except BUILD_ERRORS:
        return None


def _validate(config: dict, meta: object, p: Path) -> None:
    """Check a checkpoint's ``config`` against the training schema (:func:`lift3d.train.config.validate`, as
    ``lift3d train`` checks it; sections it leaves out take their defaults) and its ``meta``: a mapping, whose
    ``threshold`` is one of ``train.thresholds`` (a number in (0, 1)). :class:`ModelError` naming the file and the
    key otherwise. Both are left as stored (a copy is validated)."""
    from lift3d.train.config import DEFAULTS, FIELDS, merge, validate
    from lift3d.train.schema import check_value

    if not isinstance(meta, dict):
        raise ModelError(f"{p} has an invalid header: meta must be a mapping, got a {type(meta).__name__}")
    try:
        validate(merge(DEFAULTS, config))
        if "threshold" in meta:
            check_value("meta.threshold", meta["threshold"], FIELDS["train.thresholds"].item)
    except Lift3DError as exc:
        raise ModelError(f"{p} has an invalid configuration: {exc}") from exc


def _skeleton(model_config: dict, shapes: dict[str, tuple[int, ...]], p: Path) -> nn.Module | None:
    """:func:`_meta_model` of ``model_config``, its parameter count (or, when it cannot be built on the meta device,
    the file's) checked against :data:`lift3d.limits.MODEL_PARAMETERS`."""
    from lift3d import limits

    skeleton = _meta_model(model_config)
    if skeleton is not None:
        limits.MODEL_PARAMETERS.check(sum(t.numel() for t in skeleton.parameters()),
                                      f"the model configured in {p}", ModelError)
    else:
        limits.MODEL_PARAMETERS.check(sum(math.prod(s) for s in shapes.values()), f"the weights in {p}", ModelError)
    return skeleton


def load_model(path: str | os.PathLike) -> tuple[nn.Module, dict, dict]:
    """Rebuild the model of a checkpoint -> ``(model in eval mode, config, meta)``.

    Before any memory is allocated (for any checkpoint but the package's own), the model is built on the ``meta``
    device: its parameter count is checked
    against :data:`lift3d.limits.MODEL_PARAMETERS` (first: an enormous model is refused as such), then the config
    and meta against the training schema (:func:`_validate`), then its tensor names and shapes against the file's.
    Every failure is one :class:`ModelError` line (counts and the first names of missing, unexpected and wrongly
    shaped tensors).
    """
    p = Path(path)
    header, shapes = read_header(p)
    config = header.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("model"), dict):
        raise ModelError(f"{p} has no model configuration; it was not written by lift3d")
    # The weights shipped in the package are ours and tested: they skip the meta-device build, whose first forward
    # imports torch's symbolic-shape machinery (~3 s of start-up for every `lift3d reconstruct`).
    skeleton = None if p.resolve().parent == WEIGHTS_DIR else _skeleton(config["model"], shapes, p)
    meta = header.get("meta", {})
    _validate(config, meta, p)
    if skeleton is not None:
        _check_shapes(skeleton, shapes, p)
    tensors, _ = load_tensors(p)
    try:
        model = build_model(config["model"])
    except BUILD_ERRORS as exc:
        raise ModelError(f"the model configuration in {p} cannot be built: {reason(exc)}") from exc
    if skeleton is None:
        _check_shapes(model, shapes, p)
    try:
        model.load_state_dict(tensors)
    except RuntimeError as exc:
        raise ModelError(f"weights in {p} cannot be loaded: {str(exc).splitlines()[0]}") from exc
    return model.eval(), config, meta
