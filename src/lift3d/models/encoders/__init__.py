"""2D CNN image encoders in plain PyTorch (no torchvision), built by name."""

from __future__ import annotations

from torch import nn

from lift3d.errors import ModelError
from lift3d.models.encoders.resnet import ResNetEncoder
from lift3d.models.encoders.small import SmallEncoder

ENCODERS: dict[str, type[nn.Module]] = {"resnet": ResNetEncoder, "small": SmallEncoder}


def build_encoder(name: str, **kwargs) -> nn.Module:
    """Build an encoder by name (``resnet`` or ``small``) with its keyword arguments."""
    if name not in ENCODERS:
        raise ModelError(f"unknown encoder {name!r}; available: {', '.join(ENCODERS)}")
    try:
        return ENCODERS[name](**kwargs)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"bad arguments for encoder {name!r}: {exc}") from exc
