"""Paired 2D/3D data: procedural shapes, headless rendering, datasets, image preprocessing."""
