"""Edge topology of a welded mesh: boundary and non-manifold edges, holes, winding, parts, genus.

Faces with a repeated vertex index (after welding) have no surface and take no part in the topology (they are
counted as degenerate by the report). Parts are faces joined through shared edges, non-manifold edges included
(a fin on an edge belongs to the part it sits on). Genus per part from Euler's formula
``g = (2 - V + E - F) / 2``, defined only for a closed part without non-manifold vertices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh


@dataclass(frozen=True)
class Topology:
    """Counts for the whole mesh, and per part (arrays ``(C,)``, C parts, in label order)."""

    face_parts: np.ndarray  # (F,) int64 part label, -1 for a face with a repeated vertex
    part_faces: np.ndarray  # (C,) int64
    part_closed: np.ndarray  # (C,) bool: no boundary and no non-manifold edge
    part_inconsistent: np.ndarray  # (C,) int64 edges whose two faces walk it the same way
    part_genus: np.ndarray  # (C,) int64, -1 where undefined
    boundary_edges: int
    holes: int
    non_manifold_edges: int
    non_manifold_vertices: int
    inconsistent_edges: int

    @property
    def part_count(self) -> int:
        return len(self.part_faces)


def _non_manifold_vertices(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Indices of vertices where fans of faces meet only at the vertex (Open3D's definition).

    Args:
        vertices: ``(V, 3)``; faces: ``(F, 3)``.
    """
    import open3d as o3d

    legacy = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(vertices),
                                       o3d.utility.Vector3iVector(faces.astype(np.int32)))
    return np.asarray(legacy.get_non_manifold_vertices(), np.int64)


def topology(welded: trimesh.Trimesh) -> Topology:
    """Edge topology of ``welded`` (vertices ``(V, 3)`` merged by position, faces ``(F, 3)``)."""
    faces = np.asarray(welded.faces, np.int64)
    n_faces = len(faces)
    used = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    face_ids = np.nonzero(used)[0]
    sub = faces[used]
    directed = sub[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)  # trimesh's edge order: (F * 3, 2)
    edge_face = np.repeat(face_ids, 3)
    undirected = np.sort(directed, axis=1)
    first, inverse = trimesh.grouping.unique_rows(undirected)  # first occurrence of each edge, edge of each row
    counts = np.bincount(inverse, minlength=len(first))

    # faces joined through each shared edge: consecutive occurrences of one edge
    order = np.argsort(inverse, kind="stable")
    same = inverse[order[1:]] == inverse[order[:-1]]
    links = np.stack([edge_face[order[:-1]][same], edge_face[order[1:]][same]], axis=1)
    labels_used = trimesh.graph.connected_component_labels(links, node_count=n_faces)[face_ids] if len(face_ids) \
        else np.zeros(0, np.int64)
    _, labels_used = np.unique(labels_used, return_inverse=True)  # 0..C-1 over the used faces only
    face_parts = np.full(n_faces, -1, np.int64)
    face_parts[face_ids] = labels_used
    count = int(labels_used.max()) + 1 if len(labels_used) else 0

    edge_part = face_parts[edge_face[order[np.r_[True, ~same]]]]  # one occurrence per unique edge, in edge order
    boundary, non_manifold = counts == 1, counts > 2
    # an edge with two faces is consistent when they walk it in opposite directions
    pair_first = order[:-1][same & (counts[inverse[order[:-1]]] == 2)]
    pair_second = order[1:][same & (counts[inverse[order[:-1]]] == 2)]
    flipped = directed[pair_first, 0] == directed[pair_second, 0]
    inconsistent_part = np.bincount(face_parts[edge_face[pair_first]][flipped], minlength=count)

    bad_vertices = _non_manifold_vertices(np.asarray(welded.vertices), sub) if len(sub) else np.zeros(0, np.int64)
    part_boundary = np.bincount(edge_part[boundary | non_manifold], minlength=count)
    closed = part_boundary == 0
    # Euler characteristic per part: V - E + F (a vertex shared by two parts counts in both)
    corner_parts = np.repeat(labels_used, 3)
    part_vertices = np.bincount(np.unique(corner_parts * (len(welded.vertices) + 1) + sub.ravel())
                                // (len(welded.vertices) + 1), minlength=count)
    part_edges = np.bincount(edge_part, minlength=count)
    part_faces = np.bincount(labels_used, minlength=count)
    chi = part_vertices - part_edges + part_faces
    pinched = np.bincount(np.unique(corner_parts[np.isin(sub.ravel(), bad_vertices)]), minlength=count) > 0
    genus = np.where(closed & ~pinched & (chi % 2 == 0), (2 - chi) // 2, -1)
    holes = len(trimesh.graph.connected_components(undirected[first[boundary]], min_len=1)) if boundary.any() else 0
    return Topology(face_parts=face_parts, part_faces=part_faces, part_closed=closed,
                    part_inconsistent=inconsistent_part, part_genus=genus, boundary_edges=int(boundary.sum()),
                    holes=holes, non_manifold_edges=int(non_manifold.sum()),
                    non_manifold_vertices=len(bad_vertices), inconsistent_edges=int(flipped.sum()))
