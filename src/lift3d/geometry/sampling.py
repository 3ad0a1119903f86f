"""Surface sampling of meshes."""

from __future__ import annotations

import numpy as np
import trimesh

from lift3d.errors import InputError


def sample_surface(mesh: trimesh.Trimesh, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Area-weighted uniform samples on the surface -> points ``(n, 3)`` and unit normals ``(n, 3)``."""
    if len(mesh.faces) == 0 or mesh.area <= 0:
        raise InputError("cannot sample an empty or zero-area mesh")
    pts, face_idx = trimesh.sample.sample_surface(mesh, n, seed=seed)
    normals = np.asarray(mesh.face_normals)[face_idx]
    return np.asarray(pts, dtype=np.float32), normals.astype(np.float32)
