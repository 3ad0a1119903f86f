"""A generated corpus of broken meshes for ``lift3d check``, each made from a clean shape with one known defect.

``corpus()`` -> ``{name: Case}``; ``Case.expect`` holds report attributes and the values they must have,
``Case.passes`` whether the mesh passes the default requirements as it is, ``Case.fixable`` whether ``fix_mesh``
(without ``watertight``) must make it pass :data:`FIXED_REQUIRE`. Deterministic: no randomness beyond a fixed seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

FIXED_REQUIRE = ("closed", "manifold", "outward", "no_specks", "no_degenerate", "no_duplicates")

CLEAN = {"closed": True, "manifold": True, "outward": True, "holes": 0, "boundary_edges": 0, "specks": 0,
         "non_manifold_edges": 0, "inconsistent_edges": 0, "degenerate_faces": 0, "duplicate_faces": 0,
         "self_intersections": 0}


@dataclass(frozen=True)
class Case:
    """A mesh (vertices ``(V, 3)``, faces ``(F, 3)``), the report values it must get, and whether ``fix_mesh``
    must repair it."""

    mesh: trimesh.Trimesh
    expect: dict[str, object] = field(default_factory=dict)
    fixable: bool = True
    passes: bool = False  # passes the report's default requirements (closed, manifold, outward, no specks) as is


def sphere() -> trimesh.Trimesh:
    """Icosphere, radius 0.4, 1,280 faces."""
    return trimesh.creation.icosphere(subdivisions=3, radius=0.4)


def box() -> trimesh.Trimesh:
    return trimesh.creation.box(extents=(0.6, 0.4, 0.8))


def torus() -> trimesh.Trimesh:
    """Genus 1, 1,024 faces."""
    return trimesh.creation.torus(major_radius=0.3, minor_radius=0.1, major_sections=32, minor_sections=16)


def _with_faces(mesh: trimesh.Trimesh, faces: np.ndarray, vertices: np.ndarray | None = None) -> trimesh.Trimesh:
    verts = mesh.vertices if vertices is None else vertices
    return trimesh.Trimesh(np.asarray(verts, np.float64), np.asarray(faces, np.int64), process=False)


def _apart(mesh: trimesh.Trimesh, count: int) -> np.ndarray:
    """``count`` face indices, no two sharing a vertex (greedy from face 0)."""
    taken, used = [], set()
    for i, face in enumerate(mesh.faces):
        if used.isdisjoint(face.tolist()):
            taken.append(i)
            used.update(face.tolist())
            if len(taken) == count:
                break
    return np.array(taken)


def without(mesh: trimesh.Trimesh, drop: np.ndarray) -> trimesh.Trimesh:
    """``mesh`` with the faces ``drop`` removed: one hole per face when they share no vertex."""
    keep = np.ones(len(mesh.faces), bool)
    keep[drop] = False
    return _with_faces(mesh, mesh.faces[keep])


def flipped(mesh: trimesh.Trimesh, faces: np.ndarray) -> trimesh.Trimesh:
    out = np.array(mesh.faces)
    out[faces] = out[faces, ::-1]
    return _with_faces(mesh, out)


def fin(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """An extra triangle standing on the mesh's first edge: one non-manifold edge, two boundary edges."""
    a, b = mesh.faces[0, :2]
    apex = 0.5 * (mesh.vertices[a] + mesh.vertices[b]) * 1.5
    return _with_faces(mesh, np.vstack([mesh.faces, [[a, b, len(mesh.vertices)]]]), np.vstack([mesh.vertices, apex]))


def edge_shared() -> trimesh.Trimesh:
    """Two unit boxes touching along one edge (welded): one non-manifold edge with four faces."""
    other = trimesh.creation.box()
    other.apply_translation([1.0, 1.0, 0.0])
    out = trimesh.util.concatenate([trimesh.creation.box(), other])
    out.merge_vertices()
    return out


def with_speck(mesh: trimesh.Trimesh, radius: float = 0.03) -> trimesh.Trimesh:
    """``mesh`` plus a small closed sphere well apart (0.04% of an r=0.4 sphere's volume)."""
    speck = trimesh.creation.icosphere(subdivisions=1, radius=radius)
    speck.apply_translation([1.0, 0.0, 0.0])
    return trimesh.util.concatenate([mesh, speck])


def hollow(outer_inverted: bool = False) -> trimesh.Trimesh:
    """A box with a box-shaped cavity: the cavity's wall faces in (negative volume), as it should."""
    outer, wall = box(), trimesh.creation.box(extents=(0.3, 0.2, 0.4))
    wall.invert()
    if outer_inverted:
        outer.invert()
    return trimesh.util.concatenate([outer, wall])


def overlapping_boxes() -> trimesh.Trimesh:
    """Two closed boxes interpenetrating, concatenated: each closed, the surfaces cross."""
    other = box()
    other.apply_translation([0.3, 0.2, 0.1])
    return trimesh.util.concatenate([box(), other])


def pushed_through(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """One vertex pushed through the surface to the far side: still closed, but faces cross."""
    verts = np.array(mesh.vertices)
    verts[0] *= -1.3  # beyond the antipode: the spike crosses the far side
    return _with_faces(mesh, mesh.faces, verts)


def degenerate(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Two extra faces of no area: one with a repeated index, one whose third corner is a copy of its first."""
    a, b = mesh.faces[0, :2]
    extra = [[a, a, b], [a, b, len(mesh.vertices)]]
    return _with_faces(mesh, np.vstack([mesh.faces, extra]), np.vstack([mesh.vertices, mesh.vertices[a]]))


def duplicated(mesh: trimesh.Trimesh, faces: np.ndarray) -> trimesh.Trimesh:
    return _with_faces(mesh, np.vstack([mesh.faces, mesh.faces[faces]]))


def textured(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Every face with its own three vertices (UV seams everywhere) and random UVs on an 8x8 texture."""
    out = mesh.copy()
    out.unmerge_vertices()
    rng = np.random.default_rng(0)
    image = Image.fromarray((rng.random((8, 8, 3)) * 255).astype(np.uint8))
    out.visual = trimesh.visual.TextureVisuals(uv=rng.random((len(out.vertices), 2)), image=image)
    return out


def corpus() -> dict[str, Case]:
    """Clean shapes and one broken mesh per defect, with the values the report must give."""
    s, t = sphere(), torus()
    fan = np.nonzero((s.faces == 0).any(axis=1))[0]  # the faces around vertex 0: one hole of len(fan) edges
    flips = _apart(s, 4)
    return {
        "sphere": Case(s, {**CLEAN, "genus": 0, "faces": 1280, "welded_vertices": 642}, passes=True),
        "box": Case(box(), {**CLEAN, "genus": 0, "faces": 12, "size": (0.6, 0.4, 0.8)}, passes=True),
        "torus": Case(t, {**CLEAN, "genus": 1, "faces": 1024}, passes=True),
        "one_hole": Case(without(s, np.array([0])), {"closed": False, "holes": 1, "boundary_edges": 3,
                                                     "manifold": True, "genus": None}),
        "two_holes": Case(without(t, _apart(t, 2)), {"closed": False, "holes": 2, "boundary_edges": 6}),
        "fan_hole": Case(without(s, fan), {"closed": False, "holes": 1, "boundary_edges": len(fan)}),
        "flipped": Case(flipped(s, flips), {"closed": True, "inconsistent_edges": 3 * len(flips),
                                            "outward": False}),
        "inverted": Case(flipped(box(), np.arange(12)), {"closed": True, "inconsistent_edges": 0,
                                                         "inverted_parts": 1, "outward": False}),
        "fin": Case(fin(s), {"closed": False, "manifold": False, "non_manifold_edges": 1, "boundary_edges": 2},
                    fixable=False),
        "edge_shared": Case(edge_shared(), {"closed": False, "manifold": False, "non_manifold_edges": 1},
                            fixable=False),
        "hollow": Case(hollow(), {**CLEAN, "cavities": 1, "inverted_parts": 0, "genus": 0}, passes=True),
        "hollow_inverted": Case(hollow(outer_inverted=True), {"cavities": 1, "inverted_parts": 1, "outward": False}),
        "speck": Case(with_speck(s), {"closed": True, "specks": 1, "share_measure": "volume"}),
        "overlap": Case(overlapping_boxes(), {"closed": True, "manifold": True, "specks": 0}, fixable=False,
                        passes=True),
        "pushed": Case(pushed_through(s), {"closed": True}, fixable=False, passes=True),
        "degenerate": Case(degenerate(s), {"closed": True, "degenerate_faces": 2, "duplicate_faces": 1}, passes=True),
        "duplicate": Case(duplicated(s, flips[:3]), {"duplicate_faces": 3, "non_manifold_edges": 9}),
        "textured": Case(textured(s), {**CLEAN, "genus": 0, "welded_vertices": 642, "vertices": 3840}, passes=True),
    }


SELF_INTERSECTING = ("overlap", "pushed")


def write_case(case: Case, folder: Path, name: str) -> Path:
    """Write ``case.mesh`` as ``folder/name.ply`` (``.glb`` if textured), keeping faces as they are."""
    ext = ".glb" if isinstance(case.mesh.visual, trimesh.visual.TextureVisuals) else ".ply"
    path = folder / f"{name}{ext}"
    path.write_bytes(case.mesh.export(file_type=ext[1:]))
    return path
