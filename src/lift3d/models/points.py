"""Image(s) -> a fixed-size point set, after PSGN (Fan, Su & Guibas, CVPR 2017).

The views' image codes are fused order-invariantly (:class:`~lift3d.models.image_code.ImageCode`), and two branches
decode the code into points: a fully connected branch (free placement, good for thin, scattered parts) and a 2D
transposed-convolution branch whose output pixels are points (neighbouring pixels become neighbouring points, good
for smooth surfaces). Their points are concatenated. Coordinates are bounded by ``bound * tanh``, so every point
lies in the canonical cube (object in ``[-0.5, 0.5]^3``) with a small margin.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lift3d.errors import ModelError
from lift3d.models.encoders import describe_encoder
from lift3d.models.image_code import ImageCode, check_images
from lift3d.models.registry import MODELS


def _norm(channels: int) -> nn.GroupNorm:
    """Group norm (batch-independent: the fused code's statistics change with the number of views)."""
    return nn.GroupNorm(math.gcd(8, channels), channels)


class PointSetDecoder(nn.Module):
    """``code (B, K)`` -> ``points (B, N, 3)``: ``N - S^2`` points from the fully connected branch, then ``S^2``
    from the deconvolution branch (``S = 4 * 2^(len(map_channels) - 1)``).

    Args:
        code: width K of the input code.
        points: total number of points N.
        hidden: width of the fully connected branch's two hidden layers.
        map_channels: channels of the deconvolution branch at 4x4, 8x8, ... (each stage doubles the side).
        bound: coordinates are ``bound * tanh(.)``.
    """

    def __init__(self, code: int, points: int = 2048, hidden: int = 512, map_channels=(256, 128, 64, 32),
                 bound: float = 0.55) -> None:
        super().__init__()
        chans = [int(c) for c in map_channels]
        if not chans:
            raise ModelError("map_channels must list at least one width")
        self.side = 4 * 2 ** (len(chans) - 1)
        self.fc_points = int(points) - self.side**2
        if self.fc_points < 1:
            raise ModelError(f"points ({points}) must exceed the {self.side}x{self.side} points of the deconvolution "
                             "branch; use fewer map_channels or more points")
        self.points, self.bound = int(points), float(bound)
        self.fc = nn.Sequential(nn.Linear(code, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, hidden),
                                nn.ReLU(inplace=True), nn.Linear(hidden, self.fc_points * 3))
        self.seed = nn.Sequential(nn.Linear(code, chans[0] * 16), nn.ReLU(inplace=True))
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:], strict=True):
            layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), _norm(cout), nn.ReLU(inplace=True),
                       nn.Conv2d(cout, cout, 3, 1, 1, bias=False), _norm(cout), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(chans[-1], 3, 3, 1, 1))
        self.deconv = nn.Sequential(*layers)
        self.map_channels = chans[0]

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        b = code.shape[0]
        fc = self.fc(code).view(b, self.fc_points, 3)
        grid = self.deconv(self.seed(code).view(b, self.map_channels, 4, 4))  # (B, 3, S, S)
        conv = grid.flatten(2).transpose(1, 2)  # (B, S*S, 3)
        return self.bound * torch.tanh(torch.cat([fc, conv], dim=1))


@MODELS.register("points")
class PointSetReconstructor(nn.Module):
    """``images (B, V, 3, S, S)`` -> ``{"points": (B, N, 3)}`` in the canonical frame.

    Any number of views V >= 1; the output does not depend on their order (per-view codes are fused by ``fusion``,
    a max or mean over views).

    Args:
        encoder: name and kwargs of a registered encoder, e.g. ``{"name": "resnet", "depth": 18}``.
        image_size: input side (the encoder's output size is derived from it).
        code: width of the pooled image code (:class:`ImageCode`).
        spatial: width of a second per-view code read from the whole flattened feature map (where things are in
            the image, which global pooling discards); 0 = none. Fused like the pooled code.
        fusion: ``max`` or ``mean`` over views.
        points, hidden, map_channels, bound: see :class:`PointSetDecoder`.
    """

    task = "points"

    @staticmethod
    def describe(config: dict) -> str:
        """Task and architecture paragraphs of the model card."""
        m = config["model"]
        return ("**Task**: one or more RGB(A) images of an object -> a set of "
                f"{m.get('points', 2048)} surface points in the canonical object frame (centred, fits [-0.5, 0.5]^3, "
                "+Y up); meshes by screened Poisson reconstruction.\n\n**Architecture**: "
                f"{describe_encoder(config)} -> pooled code and a code of the whole feature map per view, "
                f"{m.get('fusion', 'max')}-fused over views -> a fully connected branch and a 2D transposed-"
                "convolution "
                "branch whose outputs are points (PSGN, Fan et al. 2017); trained with Chamfer distance (EMD "
                "optional).")

    def __init__(self, encoder: dict | None = None, image_size: int = 128, code: int = 512, spatial: int = 256,
                 fusion: str = "max", points: int = 2048, hidden: int = 512, map_channels=(256, 128, 64, 32),
                 bound: float = 0.55) -> None:
        super().__init__()
        self.image_code = ImageCode(encoder or {"name": "resnet", "depth": 18}, image_size, code, fusion)
        self.spatial = None
        if spatial:
            self.spatial = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(self.image_code.fmap_shape), spatial),
                                         nn.ReLU(inplace=True))
        self.decoder = PointSetDecoder(code + int(spatial), points, hidden, map_channels, bound)
        self.image_size = image_size

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        images = check_images(images)
        code, fmaps = self.image_code(images)  # (B, code), (B, V, C, h, w)
        if self.spatial is not None:
            b, v = fmaps.shape[:2]
            per_view = self.spatial(fmaps.flatten(0, 1)).view(b, v, -1)
            code = torch.cat([code, self.image_code.fusion(per_view)], dim=1)
        return {"points": self.decoder(code)}
