"""Checkpoints: weights in safetensors, with the config and metadata as JSON in its header.

A checkpoint is self-describing: ``load_model(path)`` rebuilds the network from the stored config through
the registry, with no code changes and no pickle (safetensors cannot execute code on load).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import nn

from lift3d.errors import ModelError
from lift3d.io.atomic import atomic_path
from lift3d.models.registry import build_model


def save_tensors(path: str | os.PathLike, tensors: dict[str, torch.Tensor], header: dict) -> None:
    """Atomically write tensors + a JSON-serialisable ``header`` (stored as safetensors metadata)."""
    meta = {k: json.dumps(v) for k, v in header.items()}
    clean = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(clean, str(tmp), metadata=meta)


def load_tensors(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict]:
    """Read tensors and the JSON header written by :func:`save_tensors`."""
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"checkpoint not found: {p}")
    try:
        with safe_open(str(p), framework="pt") as f:
            raw = f.metadata() or {}
        tensors = load_file(str(p))
        header = {k: json.loads(v) for k, v in raw.items()}
    except (SafetensorError, OSError, ValueError, json.JSONDecodeError) as exc:
        raise ModelError(f"{p} is not a valid lift3d checkpoint: {exc}") from exc
    return tensors, header


def save_checkpoint(path: str | os.PathLike, model: nn.Module, config: dict, meta: dict | None = None) -> None:
    """Weights (incl. batch-norm buffers) + ``config`` (with ``config["model"]`` for the registry) + ``meta``."""
    model = getattr(model, "module", model)  # unwrap DistributedDataParallel
    save_tensors(path, model.state_dict(), {"config": config, "meta": meta or {}})


def load_model(path: str | os.PathLike) -> tuple[nn.Module, dict, dict]:
    """Rebuild the model of a checkpoint -> ``(model in eval mode, config, meta)``."""
    tensors, header = load_tensors(path)
    if "config" not in header or "model" not in header["config"]:
        raise ModelError(f"{path} has no model configuration; it was not written by lift3d")
    config = header["config"]
    model = build_model(config["model"])
    try:
        model.load_state_dict(tensors)
    except RuntimeError as exc:
        raise ModelError(f"weights in {path} do not match its model configuration: {exc}") from exc
    return model.eval(), config, header.get("meta", {})
