"""Order-invariant multi-view fusion of per-view 3D feature volumes.

``context`` follows Pix2Vox's context-aware fusion (Xie et al. 2019): a small 3D conv net scores every
voxel of every view, the scores are soft-maxed across views, and the volumes are averaged with those
weights. ``mean`` and ``max`` pool across views. All three are invariant to the order of the views and
work for any number of views, including one.
"""

from __future__ import annotations

import torch
from torch import nn

from lift3d.errors import ModelError
from lift3d.registry import Registry

FUSIONS: Registry = Registry("fusion", ModelError)


@FUSIONS.register("context")
class ContextFusion(nn.Module):
    """``(B, V, C, D, D, D)`` -> ``(B, C, D, D, D)`` with per-voxel softmax weights over the V views."""

    def __init__(self, channels: int, hidden: int = 16) -> None:
        super().__init__()
        self.score = nn.Sequential(nn.Conv3d(channels, hidden, 3, padding=1), nn.BatchNorm3d(hidden),
                                   nn.LeakyReLU(0.2, inplace=True), nn.Conv3d(hidden, 1, 1))

    def forward(self, vols: torch.Tensor) -> torch.Tensor:
        b, v = vols.shape[:2]
        if v == 1 and not self.training:  # a softmax over one view is exactly 1: skip the scoring net
            return vols[:, 0]
        scores = self.score(vols.flatten(0, 1)).view(b, v, 1, *vols.shape[3:])
        weights = torch.softmax(scores, dim=1)
        return (weights * vols).sum(dim=1)


@FUSIONS.register("mean")
class MeanFusion(nn.Module):
    """``(B, V, ...)`` -> mean over the views."""

    def __init__(self, channels: int = 0) -> None:
        super().__init__()

    def forward(self, vols: torch.Tensor) -> torch.Tensor:
        return vols.mean(dim=1)


@FUSIONS.register("max")
class MaxFusion(nn.Module):
    """``(B, V, ...)`` -> maximum over the views."""

    def __init__(self, channels: int = 0) -> None:
        super().__init__()

    def forward(self, vols: torch.Tensor) -> torch.Tensor:
        return vols.amax(dim=1)


def build_fusion(name: str, channels: int) -> nn.Module:
    """``context`` | ``mean`` | ``max`` over volumes (or vectors, for ``mean``/``max``) with ``channels`` channels."""
    return FUSIONS.build(name, channels=channels)
