"""Training losses, built by name from a config's ``loss`` section through :data:`LOSSES`.

Every registered loss is called as ``loss(out, batch) -> scalar tensor``: the network's output dict and the batch
dict (targets under the keys the task declares), so a loss may combine several outputs or targets. The
differentiable point-set Chamfer term lives with the Chamfer metric it shares code with
(``lift3d.metrics.points``) and is re-exported.
"""

from lift3d.errors import InputError
from lift3d.registry import Registry

LOSSES: Registry = Registry("loss", InputError, modules=("lift3d.losses.voxel", "lift3d.losses.occupancy",
                                                         "lift3d.losses.points"))

from lift3d.losses.voxel import VoxelLoss, focal_loss, soft_iou_loss, voxel_bce  # noqa: E402
from lift3d.metrics.points import chamfer_loss  # noqa: E402

__all__ = ["LOSSES", "VoxelLoss", "chamfer_loss", "focal_loss", "soft_iou_loss", "voxel_bce"]
