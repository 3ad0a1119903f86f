"""The inference pipeline: image(s) -> model -> voxels -> mesh -> refinement -> file."""

from lift3d.reconstruct.pipeline import Reconstruction, Reconstructor, shipped_checkpoint

__all__ = ["Reconstruction", "Reconstructor", "shipped_checkpoint"]
