"""Image(s) -> one global shape code: a CNN encoder per view and an order-invariant fusion across views.

Shared by the models that condition a decoder on a single vector (the point-set and occupancy models). Views are
fused by mean or max pooling of the per-view codes, so the same weights take any number of views in any order.
"""

from __future__ import annotations

import torch
from torch import nn

from lift3d.errors import InputError, ModelError
from lift3d.models.encoders import build_encoder
from lift3d.models.fusion import build_fusion

VECTOR_FUSIONS = ("mean", "max")


def check_images(images: torch.Tensor) -> torch.Tensor:
    """``(B, V, 3, H, W)`` (or one view ``(B, 3, H, W)``) -> ``(B, V, 3, H, W)``; anything else is an InputError."""
    if images.dim() == 4:
        images = images.unsqueeze(1)
    if images.dim() != 5 or images.shape[2] != 3:
        raise InputError(f"expected images of shape (B, V, 3, H, W), got {tuple(images.shape)}")
    return images


class ImageCode(nn.Module):
    """``images (B, V, 3, S, S)`` -> ``(code (B, code), feature maps (B, V, C, h, w))``.

    Args:
        encoder: name and kwargs of a registered encoder (``{"name": "resnet", "depth": 18}``).
        image_size: input side (the encoder's output size is derived from it).
        code: width of the fused code.
        fusion: ``mean`` or ``max`` over the views' codes.
    """

    def __init__(self, encoder: dict | None = None, image_size: int = 128, code: int = 256,
                 fusion: str = "max") -> None:
        super().__init__()
        if fusion not in VECTOR_FUSIONS:
            raise ModelError(f"fusion of image codes must be one of {VECTOR_FUSIONS}, got {fusion!r}")
        enc = dict(encoder or {"name": "resnet", "depth": 18})
        self.encoder = build_encoder(enc.pop("name"), **enc)
        with torch.no_grad():
            fmap, pooled = self.encoder.eval()(torch.zeros(1, 3, image_size, image_size))
        self.encoder.train()
        self.fmap_shape = tuple(fmap.shape[1:])
        self.fc = nn.Sequential(nn.Linear(pooled.shape[1], code), nn.ReLU(inplace=True))
        self.fusion = build_fusion(fusion, code)
        self.code = code

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        images = check_images(images)
        b, v = images.shape[:2]
        fmap, pooled = self.encoder(images.flatten(0, 1))
        codes = self.fc(pooled).view(b, v, -1)
        return self.fusion(codes), fmap.view(b, v, *fmap.shape[1:])
