"""The full image(s) -> voxel model: encoder, per-view decoder, fusion, shared head, refiner."""

from __future__ import annotations

import torch
from torch import nn

from lift3d.models.decoders.voxel import VoxelHead, VoxelViewDecoder
from lift3d.models.encoders import build_encoder, describe_encoder
from lift3d.models.fusion import build_fusion
from lift3d.models.image_code import check_images
from lift3d.models.refiner import UNet3DRefiner
from lift3d.models.registry import MODELS


@MODELS.register("voxel")
class VoxelReconstructor(nn.Module):
    """``images (B, V, 3, H, W)`` -> ``{"logits": (B, 32, 32, 32), "coarse_logits": (B, 32, 32, 32)}``.

    The same weights handle any number of views V >= 1; the output does not depend on the views' order.

    Args:
        encoder: name and kwargs, e.g. ``{"name": "resnet", "depth": 18}``.
        image_size: input side (the encoder's output size is derived from it).
        latent, channels: decoder bottleneck width and channels at 4^3, 8^3, 16^3.
        head_channels: channels of the 32^3 stage.
        fusion: ``context`` | ``mean`` | ``max``.
        fuse_res: resolution (8 or 16) at which the views are fused.
        refiner: use the 3D U-Net refiner.
    """

    task = "voxel"

    @staticmethod
    def describe(config: dict) -> str:
        """Task and architecture paragraphs of the model card."""
        m = config["model"]
        fr = m.get("fuse_res", 16)
        return ("**Task**: one or more RGB(A) images of an object -> 32^3 occupancy grid in the canonical object "
                "frame (centred, fits [-0.5, 0.5]^3, +Y up) -> mesh by marching cubes.\n\n**Architecture**: "
                f"{describe_encoder(config)}, per-view 3D transposed-convolution decoder to {fr}^3, multi-view fusion "
                f"({m.get('fusion')}) at {fr}^3, shared decoder stage to 16^3, sub-pixel 3D head to 32^3, 3D U-Net "
                "refiner. Thin parts come out one or two cells (3% of the object) thick, or are missed.")

    def __init__(self, encoder: dict | None = None, image_size: int = 128, latent: int = 512,
                 channels=(64, 48, 32), head_channels: int = 32, fusion: str = "context", refiner: bool = True,
                 refiner_channels=(16, 32, 64), fuse_res: int = 16) -> None:
        super().__init__()
        enc = dict(encoder or {"name": "small"})
        self.encoder = build_encoder(enc.pop("name"), **enc)
        self.image_size = image_size
        with torch.no_grad():
            f, _ = self.encoder.eval()(torch.zeros(1, 3, image_size, image_size))
        self.encoder.train()
        self.decoder = VoxelViewDecoder(f[0].numel(), latent, tuple(channels), fuse_res)
        self.fusion = build_fusion(fusion, self.decoder.fuse_channels)
        self.head = VoxelHead(self.decoder.out_channels, head_channels)
        self.refiner = UNet3DRefiner(tuple(refiner_channels)) if refiner else None

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        images = check_images(images)
        b, v = images.shape[:2]
        feats, _ = self.encoder(images.flatten(0, 1))
        vols = self.decoder(feats)
        fused = self.decoder.shared(self.fusion(vols.view(b, v, *vols.shape[1:])))
        coarse = self.head(fused)
        logits = self.refiner(coarse) if self.refiner is not None else coarse
        return {"logits": logits, "coarse_logits": coarse}
