"""Build models by name from a config dict, so a checkpoint's JSON config rebuilds its model."""

from __future__ import annotations

from torch import nn

from lift3d.models.named import build_named
from lift3d.models.reconstructor import VoxelReconstructor

MODELS: dict[str, type[nn.Module]] = {"voxel": VoxelReconstructor}


def build_model(config: dict) -> nn.Module:
    """``{"name": "voxel", ...kwargs}`` -> model. Raises :class:`ModelError` for unknown names or arguments."""
    cfg = dict(config)
    return build_named(MODELS, cfg.pop("name", None), "model", cfg)
