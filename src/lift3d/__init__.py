"""lift3d: 2D images of an object -> 3D model (voxels, point clouds, meshes) with deep learning."""

__version__ = "0.1.0"
