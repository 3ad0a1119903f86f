"""A small, fast plain CNN encoder (conv-BN-ReLU, stride-2 stages)."""

from __future__ import annotations

import torch
from torch import nn

from lift3d.models.encoders import ENCODERS


@ENCODERS.register("small")
class SmallEncoder(nn.Module):
    """``(B, 3, H, W)`` -> feature map ``(B, C, H/2^n, W/2^n)`` and pooled vector ``(B, C)``; ``n = len(widths)``."""

    def __init__(self, widths=(32, 64, 128, 256, 256)) -> None:
        super().__init__()
        layers, cin = [], 3
        for w in widths:
            layers += [nn.Conv2d(cin, w, 3, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
                       nn.Conv2d(w, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            cin = w
        self.net = nn.Sequential(*layers)
        self.out_channels = cin

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.net(x)
        return f, f.mean(dim=(2, 3))
