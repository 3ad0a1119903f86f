"""Implicit occupancy model (Occupancy Networks, Mescheder et al. 2019): an image code conditions an MLP that
tells, for any query point of the canonical cube, whether it lies inside the object.

The decoder is a stack of ResNet blocks of point-wise linear layers whose batch norms are *conditional*: the
normalised features are scaled and shifted by affine maps of the image code (conditional batch norm, as in
OccNet's decoder). Point features are kept as ``(B, T, C)`` and every linear layer is one matrix product over all
``B * T`` points (a 1x1 ``Conv1d`` on ``(B, C, T)`` computes the same thing, slower on a CPU).
"""

from __future__ import annotations

import torch
from torch import nn

from lift3d.errors import InputError
from lift3d.models.encoders import describe_encoder
from lift3d.models.image_code import ImageCode
from lift3d.models.registry import MODELS


class CondBatchNorm(nn.Module):
    """``x (B, T, C)``, ``code (B, D)`` -> ``gamma(code) * BN(x) + beta(code)``, BN over all ``B * T`` points.

    Starts as the identity map of the normalised features (gamma = 1, beta = 0).
    """

    def __init__(self, code: int, channels: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(channels, affine=False)
        self.gamma = nn.Linear(code, channels)
        self.beta = nn.Linear(code, channels)
        nn.init.zeros_(self.gamma.weight)
        nn.init.ones_(self.gamma.bias)
        nn.init.zeros_(self.beta.weight)
        nn.init.zeros_(self.beta.bias)

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        y = self.bn(x.reshape(b * t, c)).view(b, t, c)
        return self.gamma(code)[:, None] * y + self.beta(code)[:, None]


class CondResBlock(nn.Module):
    """Pre-activation residual block: ``x + fc1(relu(cbn1(fc0(relu(cbn0(x))))))`` on ``(B, T, C)``."""

    def __init__(self, code: int, hidden: int) -> None:
        super().__init__()
        self.bn0 = CondBatchNorm(code, hidden)
        self.fc0 = nn.Linear(hidden, hidden)
        self.bn1 = CondBatchNorm(code, hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        nn.init.zeros_(self.fc1.weight)  # each block starts as the identity

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        h = self.fc0(torch.relu(self.bn0(x, code)))
        return x + self.fc1(torch.relu(self.bn1(h, code)))


class OccupancyDecoder(nn.Module):
    """Query points ``(B, T, 3)`` + code ``(B, D)`` -> occupancy logits ``(B, T)``."""

    def __init__(self, code: int = 256, hidden: int = 128, blocks: int = 5) -> None:
        super().__init__()
        if blocks < 1 or hidden < 1:
            raise ValueError(f"the decoder needs blocks >= 1 and hidden >= 1, got {blocks}, {hidden}")
        self.fc_p = nn.Linear(3, hidden)
        self.blocks = nn.ModuleList(CondResBlock(code, hidden) for _ in range(blocks))
        self.bn = CondBatchNorm(code, hidden)
        self.fc_out = nn.Linear(hidden, 1)

    def forward(self, points: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        x = self.fc_p(points)
        for block in self.blocks:
            x = block(x, code)
        return self.fc_out(torch.relu(self.bn(x, code))).squeeze(-1)


@MODELS.register("occupancy")
class OccupancyReconstructor(nn.Module):
    """``images (B, V, 3, S, S)``, query ``points (B, T, 3)`` -> ``{"logits": (B, T)}`` occupancy logits.

    The same weights take any number of views V >= 1 (codes fused by max or mean; order-invariant).

    Args:
        encoder: name and kwargs of the image encoder (``{"name": "resnet", "depth": 18}``).
        image_size: input side.
        code: width of the image code that conditions the decoder.
        hidden: width of the decoder's point features.
        blocks: conditional ResNet blocks of the decoder.
        fusion: ``max`` or ``mean`` over the views' codes.
    """

    task = "occupancy"

    @staticmethod
    def describe(config: dict) -> str:
        """Task and architecture paragraphs of the model card."""
        m = config["model"]
        return (f"**Task**: one or more RGB(A) images of an object -> an implicit occupancy field over the canonical "
                f"object frame (centred, fits [-0.5, 0.5]^3, +Y up) -> mesh by multi-resolution evaluation and "
                f"marching cubes at 64^3-256^3 (`--resolution`, default 128).\n\n**Architecture**: "
                f"{describe_encoder(config)} -> {m.get('code', 256)}-d code per view, {m.get('fusion', 'max')}-pooled "
                f"over views -> {m.get('blocks', 5)} conditional-batch-norm ResNet blocks of width "
                f"{m.get('hidden', 128)} on each query point (Occupancy Networks style); trained with BCE on the data "
                "engine's occupancy samples (half near the surface).")

    def __init__(self, encoder: dict | None = None, image_size: int = 128, code: int = 256, hidden: int = 128,
                 blocks: int = 5, fusion: str = "max") -> None:
        super().__init__()
        self.image_size = image_size
        self.image_code = ImageCode(encoder, image_size, code, fusion)
        self.decoder = OccupancyDecoder(code, hidden, blocks)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``(B, V, 3, S, S)`` -> code ``(B, code)``."""
        return self.image_code(images)[0]

    def decode(self, points: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """Query points ``(B, T, 3)`` (canonical frame) + code ``(B, code)`` -> logits ``(B, T)``."""
        if points.dim() != 3 or points.shape[-1] != 3 or points.shape[0] != code.shape[0]:
            raise InputError(f"query points must be (B, T, 3) with B = {code.shape[0]}, got {tuple(points.shape)}")
        return self.decoder(points, code)

    def forward(self, images: torch.Tensor, points: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"logits": self.decode(points, self.encode(images))}
