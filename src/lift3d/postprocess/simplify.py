"""Mesh decimation with fast-simplification (quadric error metrics)."""

from __future__ import annotations

import numpy as np
import trimesh

from lift3d.errors import InputError


def decimate(mesh: trimesh.Trimesh, target_faces: int | None = None, ratio: float | None = None) -> trimesh.Trimesh:
    """Reduce to about ``target_faces`` faces, or by ``ratio`` (0.75 removes 75% of the faces)."""
    import fast_simplification

    if (target_faces is None) == (ratio is None):
        raise InputError("give exactly one of target_faces or ratio")
    if target_faces is not None:
        if target_faces >= len(mesh.faces):
            return mesh.copy()
        ratio = 1.0 - target_faces / len(mesh.faces)
    if not 0.0 <= ratio < 1.0:
        raise InputError(f"decimation ratio must be in [0, 1), got {ratio}")
    v, f = fast_simplification.simplify(np.asarray(mesh.vertices, np.float32), np.asarray(mesh.faces, np.int32),
                                        target_reduction=float(ratio))
    return trimesh.Trimesh(v, f, process=True)
