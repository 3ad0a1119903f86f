"""2D CNN image encoders in plain PyTorch (no torchvision), built by name from :data:`ENCODERS`."""

from __future__ import annotations

from torch import nn

from lift3d.errors import ModelError
from lift3d.registry import Registry

ENCODERS: Registry = Registry("encoder", ModelError, modules=("lift3d.models.encoders.resnet",
                                                                "lift3d.models.encoders.small"))


def build_encoder(name: str, **kwargs) -> nn.Module:
    """Build an encoder by name (``resnet`` or ``small``) with its keyword arguments."""
    return ENCODERS.build(name, **kwargs)


def describe_encoder(config: dict) -> str:
    """``resnet-18 image encoder (96 px input)`` from a training config (for model cards)."""
    enc = config["model"].get("encoder", {})
    size = config["data"]["image_size"]
    return f"`{enc.get('name', 'resnet')}`-{enc.get('depth', '')} image encoder ({size} px input)"
