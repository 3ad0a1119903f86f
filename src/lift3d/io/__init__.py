"""Reading and writing files: atomic writes, mesh / point cloud / voxel formats."""
