"""Networks: 2D encoders, 3D voxel decoders, multi-view fusion, refiner, registry and checkpoints."""
