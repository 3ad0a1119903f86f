"""Build models by name from a config dict, so a checkpoint's JSON config rebuilds its model."""

from __future__ import annotations

from torch import nn

from lift3d.errors import ModelError
from lift3d.models.reconstructor import VoxelReconstructor

MODELS: dict[str, type[nn.Module]] = {"voxel": VoxelReconstructor}


def build_model(config: dict) -> nn.Module:
    """``{"name": "voxel", ...kwargs}`` -> model. Raises :class:`ModelError` for unknown names or arguments."""
    cfg = dict(config)
    name = cfg.pop("name", None)
    if name not in MODELS:
        raise ModelError(f"unknown model {name!r}; available: {', '.join(MODELS)}")
    try:
        return MODELS[name](**cfg)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"bad model configuration for {name!r}: {exc}") from exc
