"""Implicit occupancy model (Occupancy Networks, Mescheder et al. 2019): an image code conditions an MLP that
tells, for any query point of the canonical cube, whether it lies inside the object.

The decoder is a stack of ResNet blocks of point-wise linear layers whose batch norms are *conditional*: the
normalised features are scaled and shifted by affine maps of the image code (conditional batch norm, as in
OccNet's decoder). Point features are kept as ``(B, T, C)`` and every linear layer is one matrix product over all
``B * T`` points (a 1x1 ``Conv1d`` on ``(B, C, T)`` computes the same thing, slower on a CPU).

Optionally (``volume > 0``, the shipped config) each query point also reads a local feature, trilinearly sampled
from a coarse 3D feature volume that the voxel model's decoder stages lift from the views and fuse (the idea of
Convolutional Occupancy Networks, Peng et al. 2020). Measured with the shipped data and schedule: with the global code
alone, after 4 epochs (148 steps of the budget's ~1100) the decoder was still at the position prior (query accuracy
0.76, where a decoder given no image at all reaches 0.78; not one cell of the 32^3 field inside on validation
shapes), so the local path is the default; the continuous decoder keeps surfaces finer than the 16^3 volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lift3d.errors import InputError
from lift3d.models.decoders.voxel import VoxelViewDecoder
from lift3d.models.encoders import describe_encoder
from lift3d.models.fusion import build_fusion
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
    """Query points ``(B, T, 3)`` (+ local features ``(B, T, F)``) + code ``(B, D)`` -> occupancy logits ``(B, T)``."""

    def __init__(self, code: int = 256, hidden: int = 128, blocks: int = 5, local: int = 0) -> None:
        super().__init__()
        if blocks < 1 or hidden < 1:
            raise ValueError(f"the decoder needs blocks >= 1 and hidden >= 1, got {blocks}, {hidden}")
        self.fc_p = nn.Linear(3 + local, hidden)
        self.blocks = nn.ModuleList(CondResBlock(code, hidden) for _ in range(blocks))
        self.bn = CondBatchNorm(code, hidden)
        self.fc_out = nn.Linear(hidden, 1)

    def forward(self, points: torch.Tensor, code: torch.Tensor, local: torch.Tensor | None = None) -> torch.Tensor:
        x = self.fc_p(points if local is None else torch.cat([points, local], -1))
        for block in self.blocks:
            x = block(x, code)
        return self.fc_out(torch.relu(self.bn(x, code))).squeeze(-1)


@dataclass
class OccupancyCode:
    """What the decoder needs of the images: the global code ``(B, D)`` and the local volume ``(B, F, R, R, R)``
    (None without one). Sliced by object like a tensor (``code[b:b + 1]``)."""

    code: torch.Tensor
    volume: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.code)

    def __getitem__(self, idx: slice) -> OccupancyCode:
        return OccupancyCode(self.code[idx], None if self.volume is None else self.volume[idx])


def sample_volume(volume: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Trilinear features of a cell-centred volume ``(B, F, X, Y, Z)`` over the canonical cube at ``points (B, T, 3)``
    (x, y, z) -> ``(B, T, F)``; points outside the cube read the border cells."""
    grid = (points * 2.0).flip(-1)[:, :, None, None]  # grid_sample wants (z, y, x) order for a (X, Y, Z) volume
    out = F.grid_sample(volume, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out[:, :, :, 0, 0].transpose(1, 2)


@MODELS.register("occupancy")
class OccupancyReconstructor(nn.Module):
    """``images (B, V, 3, S, S)``, query ``points (B, T, 3)`` -> ``{"logits": (B, T)}`` occupancy logits.

    The same weights take any number of views V >= 1 (codes and volumes fused by max or mean; order-invariant).

    Args:
        encoder: name and kwargs of the image encoder (``{"name": "resnet", "depth": 18}``).
        image_size: input side.
        code: width of the image code that conditions the decoder's batch norms.
        hidden: width of the decoder's point features.
        blocks: conditional ResNet blocks of the decoder.
        fusion: ``max`` or ``mean`` over the views (codes and volumes).
        volume: channels of the local feature volume at 4^3, 8^3 and 16^3 (empty: global code only).
        latent: width of the fully connected layer that lifts each view's features to the 4^3 volume.
    """

    task = "occupancy"

    @staticmethod
    def describe(config: dict) -> str:
        """Task and architecture paragraphs of the model card."""
        m = config["model"]
        vol = m.get("volume") or []
        local = (f"; each query point also reads a {vol[-1]}-channel feature trilinearly sampled from a 16^3 volume "
                 "lifted from the views by 3D transposed convolutions and fused across views (Convolutional "
                 "Occupancy Networks' idea)") if vol else ""
        return (f"**Task**: one or more RGB(A) images of an object -> an implicit occupancy field over the canonical "
                f"object frame (centred, fits [-0.5, 0.5]^3, +Y up) -> mesh by multi-resolution evaluation and "
                f"marching cubes at 64^3-256^3 (`--resolution`, default 128).\n\n**Architecture**: "
                f"{describe_encoder(config)} -> {m.get('code', 256)}-d code per view, {m.get('fusion', 'max')}-pooled "
                f"over views -> {m.get('blocks', 5)} conditional-batch-norm ResNet blocks of width "
                f"{m.get('hidden', 128)} on each query point (Occupancy Networks style){local}; trained with BCE on "
                "the data engine's occupancy samples (half near the surface).")

    def __init__(self, encoder: dict | None = None, image_size: int = 128, code: int = 256, hidden: int = 128,
                 blocks: int = 5, fusion: str = "max", volume=(), latent: int = 256) -> None:
        super().__init__()
        self.image_size = image_size
        self.image_code = ImageCode(encoder, image_size, code, fusion)
        self.lift = None
        if volume:
            c, h, w = self.image_code.fmap_shape
            self.lift = VoxelViewDecoder(c * h * w, latent, tuple(volume), fuse_res=8)
            self.volume_fusion = build_fusion(fusion, self.lift.fuse_channels)
        self.decoder = OccupancyDecoder(code, hidden, blocks, local=int(volume[-1]) if volume else 0)

    def encode(self, images: torch.Tensor) -> OccupancyCode:
        """Images ``(B, V, 3, S, S)`` -> the code (and local volume) of each object."""
        code, fmap = self.image_code(images)
        if self.lift is None:
            return OccupancyCode(code)
        b, v = fmap.shape[:2]
        vols = self.lift(fmap.flatten(0, 1))
        fused = self.volume_fusion(vols.view(b, v, *vols.shape[1:]))
        return OccupancyCode(code, self.lift.shared(fused))

    def decode(self, points: torch.Tensor, code: OccupancyCode) -> torch.Tensor:
        """Query points ``(B, T, 3)`` (canonical frame) + the objects' code -> logits ``(B, T)``."""
        if points.dim() != 3 or points.shape[-1] != 3 or points.shape[0] != len(code):
            raise InputError(f"query points must be (B, T, 3) with B = {len(code)}, got {tuple(points.shape)}")
        local = None if code.volume is None else sample_volume(code.volume, points)
        return self.decoder(points, code.code, local)

    def forward(self, images: torch.Tensor, points: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"logits": self.decode(points, self.encode(images))}
