"""Fast batch-1 CPU inference: run every convolution through oneDNN.

Why by hand: ATen picks its own im2col ("slow_conv2d/3d") kernel instead of oneDNN for batch-1 inputs with small
planes (the size heuristic in ``ConvParams::use_mkldnn``), and for the 3D convolutions of the voxel decoder that
kernel is about 3x slower (measured on 2 cores: 24 -> 16 channels, 3^3 kernel, 16^3 volume, 20.4 ms vs 7.4 ms).
No library exposes a switch for that heuristic, so :func:`use_onednn` swaps each ``Conv2d``/``Conv3d`` for a
module that calls ``torch.mkldnn_convolution`` on ordinary dense tensors. Weights are shared, not copied;
outputs equal the original's to float tolerance. Inference only (eval mode, no autograd).
"""

from __future__ import annotations

import torch
from torch import nn


class OneDNNConv(nn.Module):
    """Drop-in for an eval-mode ``nn.Conv2d``/``nn.Conv3d`` with zero padding: ``(B, C, *S) -> (B, C', *S')``."""

    def __init__(self, conv: nn.Conv2d | nn.Conv3d) -> None:
        super().__init__()
        self.weight = conv.weight
        self.bias = conv.bias
        self.stride, self.padding, self.dilation, self.groups = conv.stride, conv.padding, conv.dilation, conv.groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.mkldnn_convolution(x.contiguous(), self.weight, self.bias, self.padding, self.stride,
                                        self.dilation, self.groups)


def _convertible(m: nn.Module) -> bool:
    return (isinstance(m, nn.Conv2d | nn.Conv3d) and m.padding_mode == "zeros" and not isinstance(m.padding, str)
            and m.weight.dtype == torch.float32 and m.weight.device.type == "cpu")


def use_onednn(model: nn.Module) -> int:
    """Replace, in place, every convertible convolution of ``model`` by :class:`OneDNNConv`; returns how many.

    Does nothing (returns 0) where PyTorch was built without oneDNN.
    """
    if not torch.backends.mkldnn.is_available():
        return 0
    count = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if _convertible(child):
                setattr(parent, name, OneDNNConv(child))
                count += 1
    return count
