"""A light 3D U-Net refiner (Pix2Vox's refiner idea: fix local errors of the decoded volume).

``(B, D, D, D)`` logits -> refined logits of the same shape, as a residual correction, with skip
connections at each scale. The ``D^3`` volume enters by space-to-depth (each 2x2x2 block becomes 8
channels at ``(D/2)^3``) and leaves by the inverse, so no convolution runs at full resolution: measured
on 2 CPU cores, batch 32, forward + backward, 690 ms for a plain 3-level U-Net at 32^3 (8/16/32
channels) versus about 100 ms for this one, while every output voxel still sees a 3D receptive field.
"""

from __future__ import annotations

import torch
from torch import nn

from lift3d.models.decoders.voxel import pixel_shuffle_3d, pixel_unshuffle_3d


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm3d(cout),
                         nn.LeakyReLU(0.2, inplace=True))


class UNet3DRefiner(nn.Module):
    """3-level 3D U-Net at ``(D/2)^3 -> (D/4)^3 -> (D/8)^3`` and back with skips; residual logits."""

    def __init__(self, channels=(16, 32, 64)) -> None:
        super().__init__()
        c1, c2, c3 = channels
        self.e1 = _conv(8, c1)
        self.e2 = _conv(c1, c2, 2)
        self.e3 = _conv(c2, c3, 2)
        self.d2 = nn.Sequential(nn.ConvTranspose3d(c3, c2, 4, 2, 1, bias=False), nn.BatchNorm3d(c2), nn.ReLU(True))
        self.d1 = nn.Sequential(nn.ConvTranspose3d(2 * c2, c1, 4, 2, 1, bias=False), nn.BatchNorm3d(c1), nn.ReLU(True))
        self.out = nn.Conv3d(2 * c1, 8, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        x = pixel_unshuffle_3d(torch.sigmoid(logits).unsqueeze(1))
        e1 = self.e1(x)
        e2 = self.e2(e1)
        e3 = self.e3(e2)
        d2 = self.d2(e3)
        d1 = self.d1(torch.cat([d2, e2], 1))
        return logits + pixel_shuffle_3d(self.out(torch.cat([d1, e1], 1))).squeeze(1)
