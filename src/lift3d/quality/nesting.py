"""How many other closed parts enclose each closed part: a cavity (odd count) should face inwards.

A hollow solid is an outer shell with outward normals and an inner shell (the cavity's wall) whose normals point
into the cavity, so its signed volume is negative and that is right. The count is the parity of the crossings of
a ray from the part with the other closed parts (Open3D ``RaycastingScene.list_intersections``), the majority of
three rays in different directions, so a ray grazing an edge does not decide alone.
"""

from __future__ import annotations

import numpy as np
import trimesh

DIRECTIONS = np.array([[0.5712, 0.6543, 0.4957], [-0.6421, 0.3124, -0.7002], [0.1873, -0.9514, 0.2445]])


def enclosing_parity(welded: trimesh.Trimesh, face_parts: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """For each part, whether an odd number of the OTHER closed parts enclose it.

    Args:
        welded: vertices ``(V, 3)``, faces ``(F, 3)``.
        face_parts: part label of each face ``(F,)`` int, -1 for faces in no part.
        closed: ``(C,)`` bool, which parts are closed (only they can enclose, only they are probed).

    Returns:
        ``(C,)`` bool; False for open parts.
    """
    import open3d as o3d

    count = len(closed)
    odd = np.zeros(count, bool)
    probed = np.nonzero(closed)[0]
    if len(probed) < 2:
        return odd
    in_closed = np.nonzero((face_parts >= 0) & closed[np.maximum(face_parts, 0)])[0]
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(np.asarray(welded.vertices, np.float32)),
                        o3d.core.Tensor(np.asarray(welded.faces[in_closed], np.uint32)))
    first = np.full(count, -1, np.int64)
    first[face_parts[in_closed][::-1]] = in_closed[::-1]  # the first face of each closed part
    starts = welded.triangles_center[first[probed]]
    rays = np.concatenate([np.hstack([starts, np.broadcast_to(d, starts.shape)]) for d in DIRECTIONS])
    hits = scene.list_intersections(o3d.core.Tensor(rays.astype(np.float32)))
    ray_ids = hits["ray_ids"].numpy().astype(np.int64)
    hit_part = face_parts[in_closed[hits["primitive_ids"].numpy().astype(np.int64)]]
    own = hit_part == np.tile(probed, len(DIRECTIONS))[ray_ids]
    crossings = np.bincount(ray_ids[~own], minlength=len(rays)).reshape(len(DIRECTIONS), -1)
    odd[probed] = (crossings % 2).sum(axis=0) >= 2
    return odd
