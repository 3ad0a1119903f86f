"""Self-intersections: pairs of triangles that cross each other, found by Open3D, on a kd-split of the mesh.

Open3D's ``TriangleMesh.get_self_intersecting_triangles()`` tests every pair of triangles (quadratic: 9 s for
50,000 faces on one core). Two triangles can only intersect where their bounding boxes overlap, so the faces are
split recursively at the median along the longest side of their bounding box, a face whose box straddles the cut
going to both halves, until a piece holds at most :data:`LEAF_FACES` faces; Open3D then tests each piece alone
and the pairs are merged (the same pair found in two pieces counts once). Every intersecting pair shares a point,
which lies in some piece together with both faces, so nothing is missed. Faces that share a vertex index are never
counted as intersecting (Open3D's rule): weld the mesh by position first.
"""

from __future__ import annotations

import numpy as np

LEAF_FACES = 1000
"""Largest piece handed to Open3D in one call (about 3 ms of pair tests)."""

MAX_PAIR_TESTS = 500_000_000
"""Default budget of triangle-pair tests (about 3 s); over it, the count is a lower bound."""


def _pieces(boxes: np.ndarray, leaf: int) -> list[np.ndarray]:
    """Face-index sets, each of at most ``leaf`` faces where the split can reduce them.

    Args:
        boxes: per-face axis-aligned bounding boxes ``(F, 2, 3)`` (min, max).
    """
    todo, done = [np.arange(len(boxes))], []
    while todo:
        idx = todo.pop()
        if len(idx) <= leaf:
            done.append(idx)
            continue
        lo, hi = boxes[idx, 0].min(0), boxes[idx, 1].max(0)
        axis = int(np.argmax(hi - lo))
        cut = float(np.median(0.5 * (boxes[idx, 0, axis] + boxes[idx, 1, axis])))
        left, right = idx[boxes[idx, 0, axis] <= cut], idx[boxes[idx, 1, axis] >= cut]
        if len(left) + len(right) > 1.5 * len(idx) or max(len(left), len(right)) == len(idx):
            done.append(idx)  # most faces straddle the cut (large triangles): splitting no longer helps
        else:
            todo += [left, right]
    return done


def self_intersecting_pairs(vertices: np.ndarray, faces: np.ndarray, max_pair_tests: int = MAX_PAIR_TESTS,
                            leaf: int = LEAF_FACES) -> tuple[np.ndarray, bool]:
    """Pairs of faces that intersect each other (faces sharing a vertex index are not tested).

    Args:
        vertices: ``(V, 3)`` float positions (welded by position, see the module note).
        faces: ``(F, 3)`` int vertex indices.
        max_pair_tests: budget of triangle-pair tests; pieces beyond it are skipped.
        leaf: largest piece tested in one Open3D call.

    Returns:
        ``(pairs, capped)``: face-index pairs ``(K, 2)`` int64 with ``pairs[:, 0] < pairs[:, 1]``, sorted, and
        whether the budget ran out (then ``K`` is a lower bound).
    """
    import open3d as o3d

    vertices, faces = np.asarray(vertices, np.float64), np.asarray(faces, np.int64)
    if len(faces) < 2:
        return np.zeros((0, 2), np.int64), False
    tri = vertices[faces]
    boxes = np.stack([tri.min(1), tri.max(1)], axis=1)
    found, spent, capped = [], 0, False
    for idx in sorted(_pieces(boxes, leaf), key=len):
        cost = len(idx) * (len(idx) - 1) // 2
        if spent + cost > max_pair_tests:
            capped = True
            continue
        spent += cost
        used, local = np.unique(faces[idx], return_inverse=True)
        piece = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(vertices[used]),
                                          o3d.utility.Vector3iVector(local.reshape(-1, 3).astype(np.int32)))
        pairs = np.asarray(piece.get_self_intersecting_triangles(), np.int64)
        if len(pairs):
            found.append(idx[pairs])
    if not found:
        return np.zeros((0, 2), np.int64), capped
    pairs = np.sort(np.concatenate(found), axis=1)
    return np.unique(pairs, axis=0), capped
