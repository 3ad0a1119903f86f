"""Metrics shared by evaluation and tests (canonical frame: objects fit [-0.5, 0.5]^3)."""

from lift3d.metrics.emd import emd, emd_exact, emd_sinkhorn
from lift3d.metrics.points import chamfer_distance, chamfer_loss, fscore, normal_consistency
from lift3d.metrics.voxel import voxel_iou

__all__ = ["chamfer_distance", "chamfer_loss", "emd", "emd_exact", "emd_sinkhorn", "fscore", "normal_consistency",
           "voxel_iou"]
