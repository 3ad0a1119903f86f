"""Training losses."""

from lift3d.losses.voxel import VoxelLoss, focal_loss, soft_iou_loss, voxel_bce

__all__ = ["VoxelLoss", "focal_loss", "soft_iou_loss", "voxel_bce"]
