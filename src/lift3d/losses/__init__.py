"""Training losses: voxel losses here; the differentiable point-set Chamfer loss lives with the Chamfer metric it
shares code with (``lift3d.metrics.points``) and is re-exported. (EMD in ``lift3d.metrics.emd`` is a metric that
returns a float, not a loss.)"""

from lift3d.losses.voxel import VoxelLoss, focal_loss, soft_iou_loss, voxel_bce
from lift3d.metrics.points import chamfer_loss

__all__ = ["VoxelLoss", "chamfer_loss", "focal_loss", "soft_iou_loss", "voxel_bce"]
