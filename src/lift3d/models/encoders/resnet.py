"""ResNet-18/34-style encoder (He et al. 2016) with configurable widths."""

from __future__ import annotations

import torch
from torch import nn

from lift3d.models.encoders import ENCODERS


class BasicBlock(nn.Module):
    """Two 3x3 convs with batch norm and an identity (or 1x1 projection) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.short is None else self.short(x)))


@ENCODERS.register("resnet")
class ResNetEncoder(nn.Module):
    """``(B, 3, H, W)`` -> feature map ``(B, C, H/32, W/32)`` and pooled vector ``(B, C)``.

    Args:
        depth: 18 (2 blocks per stage) or 34 (3, 4, 6, 3).
        widths: channels of the four stages; ``C = widths[-1]``.
        stem: channels of the 7x7 stride-2 stem (followed by a stride-2 max pool).
    """

    def __init__(self, depth: int = 18, widths=(32, 64, 128, 256), stem: int = 32) -> None:
        super().__init__()
        blocks = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}.get(depth)
        if blocks is None:
            raise ValueError(f"depth must be 18 or 34, got {depth}")
        self.stem = nn.Sequential(nn.Conv2d(3, stem, 7, 2, 3, bias=False), nn.BatchNorm2d(stem), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        layers, cin = [], stem
        for i, (w, n) in enumerate(zip(widths, blocks, strict=True)):
            for j in range(n):
                layers.append(BasicBlock(cin, w, 2 if (j == 0 and i > 0) else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.out_channels = cin

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.layers(self.stem(x))
        return f, f.mean(dim=(2, 3))
