"""2D CNN image encoders in plain PyTorch (no torchvision), built by name."""

from __future__ import annotations

from torch import nn

from lift3d.models.encoders.resnet import ResNetEncoder
from lift3d.models.encoders.small import SmallEncoder
from lift3d.models.named import build_named

ENCODERS: dict[str, type[nn.Module]] = {"resnet": ResNetEncoder, "small": SmallEncoder}


def build_encoder(name: str, **kwargs) -> nn.Module:
    """Build an encoder by name (``resnet`` or ``small``) with its keyword arguments."""
    return build_named(ENCODERS, name, "encoder", kwargs)
