"""A mesh quality report: closed, manifold, outward normals, floating parts, degenerate faces, self-intersections.

Everything is measured on the geometry WELDED BY POSITION (:func:`weld`): a textured mesh splits its vertices
along UV seams and a flat-shaded one at every crease, but a seam is not a hole. Faces keep their order, so face
indices in the report (``MeshReport.face_parts``) are the input's face indices.

    report = check_mesh_quality(mesh)            # vertices (V, 3), faces (F, 3)
    report.verdict()                             # "closed, manifold, outward normals, 1 part, 4,812 faces, ..."
    report.passes()                              # closed, manifold, outward, no specks
    report.problems(("closed", "no_self_intersections"))   # what fails, one line each
    report.to_dict()                             # JSON-ready
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import trimesh

from lift3d.errors import InputError
from lift3d.quality.intersect import MAX_PAIR_TESTS, self_intersecting_pairs
from lift3d.quality.nesting import enclosing_parity
from lift3d.quality.topology import Topology, topology

SPECK_FRACTION = 0.01
"""A part under this share of the total volume (or area, see :attr:`MeshReport.share_measure`) is a speck."""

DEFAULT_REQUIRE = ("closed", "manifold", "outward", "no_specks")
"""What :meth:`MeshReport.passes` checks unless told otherwise (what a mesh needs to be printed or booleaned)."""

PARTS_LISTED = 100
"""``to_dict`` lists at most this many parts (the largest)."""


def count_noun(count: int, noun: str, plural: str | None = None) -> str:
    """``1 hole``, ``3 holes``, ``1,204 vertices``."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


@dataclass(frozen=True)
class Part:
    """One connected part (faces joined through shared edges, non-manifold ones included).

    ``volume`` is the signed enclosed volume (None for an open part); ``share`` the part's fraction of the total
    volume or area (:attr:`MeshReport.share_measure`); ``genus`` None unless the part is a closed manifold;
    ``cavity``: a closed part inside an odd number of others with its normals facing in (the wall of a hollow,
    right as it is); ``inverted``: a closed, consistently wound part with negative volume that is not a cavity."""

    faces: int
    area: float
    volume: float | None
    share: float
    closed: bool
    genus: int | None
    speck: bool
    inverted: bool = False
    cavity: bool = False


@dataclass(frozen=True)
class MeshReport:
    """What :func:`check_mesh_quality` found. Counts are of the welded mesh except ``vertices`` (as stored)."""

    vertices: int
    welded_vertices: int
    faces: int
    size: tuple[float, float, float]
    units: str
    boundary_edges: int
    holes: int
    non_manifold_edges: int
    non_manifold_vertices: int
    inconsistent_edges: int
    inverted_parts: int
    cavities: int
    outward: bool | None
    degenerate_faces: int
    duplicate_faces: int
    self_intersections: int | None
    self_intersections_capped: bool
    genus: int | None
    parts: tuple[Part, ...]
    share_measure: str
    speck_fraction: float
    face_parts: np.ndarray = field(repr=False, compare=False)
    """Part index of every input face ``(F,)`` int64 (into ``parts``); -1 for faces with a repeated vertex."""

    # ------------------------------------------------------------ derived items

    @property
    def closed(self) -> bool:
        """No boundary edges and no non-manifold edges: the surface bounds a solid."""
        return self.boundary_edges == 0 and self.non_manifold_edges == 0

    @property
    def manifold(self) -> bool:
        """Every edge has at most two faces and no vertex pinches two fans of faces together."""
        return self.non_manifold_edges == 0 and self.non_manifold_vertices == 0

    @property
    def winding_consistent(self) -> bool:
        """Every edge with two faces is walked in opposite directions by them."""
        return self.inconsistent_edges == 0

    @property
    def specks(self) -> int:
        """Parts under ``speck_fraction`` of the total volume or area (the largest part never counts)."""
        return sum(p.speck for p in self.parts)

    # ------------------------------------------------------------ requirements

    def problems(self, require: Iterable[str] = DEFAULT_REQUIRE) -> list[str]:
        """One line per requirement in ``require`` that fails (names: :data:`REQUIREMENTS`)."""
        out = []
        for name in (require,) if isinstance(require, str) else require:
            if name not in REQUIREMENTS:
                raise InputError(f"unknown requirement '{name}'; use {', '.join(REQUIREMENTS)}")
            ok, text = REQUIREMENTS[name]
            if not ok(self):
                out.append(text(self))
        return out

    def passes(self, require: Iterable[str] = DEFAULT_REQUIRE) -> bool:
        """True when every requirement in ``require`` holds (default: closed, manifold, outward, no specks)."""
        return not self.problems(require)

    # ------------------------------------------------------------ text

    def closed_text(self) -> str:
        if self.closed:
            return "closed"
        if self.boundary_edges:
            return f"NOT closed ({count_noun(self.holes, 'hole')}, {count_noun(self.boundary_edges, 'boundary edge')})"
        return f"NOT closed ({count_noun(self.non_manifold_edges, 'non-manifold edge')})"

    def manifold_text(self) -> str:
        if self.manifold:
            return "manifold"
        bits = [count_noun(n, what, plural) for n, what, plural in ((self.non_manifold_edges, "edge", "edges"),
                                                             (self.non_manifold_vertices, "vertex", "vertices")) if n]
        return f"NOT manifold ({', '.join(bits)})"

    def normals_text(self) -> str:
        if self.inconsistent_edges:
            return f"winding INCONSISTENT ({count_noun(self.inconsistent_edges, 'edge')})"
        if self.inverted_parts:
            return f"normals INVERTED ({count_noun(self.inverted_parts, 'part')})"
        if not self.outward:
            return "normals unknown (not closed)"
        return "outward normals" + (f" ({count_noun(self.cavities, 'cavity', 'cavities')} facing in)"
                                    if self.cavities else "")

    def specks_text(self) -> str:
        return f"{count_noun(self.specks, 'speck')} under {100 * self.speck_fraction:g}% of the {self.share_measure}"

    def parts_text(self) -> str:
        text = count_noun(len(self.parts), "part")
        return f"{text} ({self.specks_text()})" if self.specks else text

    def size_text(self) -> str:
        unit = {"metres": " m", "units": ""}.get(self.units, f" {self.units}")  # "m", "mm"... as given
        return " x ".join(f"{s:.3g}" for s in self.size) + unit

    def self_intersections_text(self) -> str:
        if self.self_intersections is None:
            return "not checked"
        return ("at least " if self.self_intersections_capped else "") + count_noun(self.self_intersections,
                                                                           "intersecting triangle pair")

    def verdict(self) -> str:
        """One line: ``closed, manifold, outward normals, 1 part, 4,812 faces, 0.98 x 0.61 x 0.55`` (defects in
        capitals: ``NOT closed (3 holes, 41 boundary edges)``; extra defects only when present)."""
        bits = [self.closed_text(), self.manifold_text(), self.normals_text(), self.parts_text()]
        if self.degenerate_faces:
            bits.append(count_noun(self.degenerate_faces, "degenerate face"))
        if self.duplicate_faces:
            bits.append(count_noun(self.duplicate_faces, "duplicate face"))
        if self.self_intersections or self.self_intersections_capped:
            bits.append(self.self_intersections_text().replace("intersecting triangle", "self-intersecting"))
        bits += [count_noun(self.faces, "face"), self.size_text()]
        return ", ".join(bits)

    def rows(self) -> list[tuple[str, str]]:
        """``(item, value)`` rows for a short table, one per item."""
        shares = ", ".join(f"{100 * p.share:.3g}%" for p in self.parts[:5]) + (", ..." if len(self.parts) > 5
                                                                               else "")
        genus = "-" if self.genus is None else str(self.genus)
        return [
            ("faces", f"{self.faces:,}"),
            ("vertices", f"{self.vertices:,} ({self.welded_vertices:,} welded by position)"),
            ("size", f"{self.size_text()} ({self.units})"),
            ("closed", self.closed_text()),
            ("manifold", self.manifold_text()),
            ("normals", self.normals_text().replace("normals ", "", 1).replace(" normals", "")),
            ("parts", f"{self.parts_text()}; share of the {self.share_measure}: {shares}"),
            ("degenerate", count_noun(self.degenerate_faces, "face")),
            ("duplicates", count_noun(self.duplicate_faces, "face")),
            ("self-intersect", self.self_intersections_text()),
            ("genus", genus),
        ]

    def to_dict(self) -> dict:
        """Every item as JSON-ready values (parts: the :data:`PARTS_LISTED` largest)."""
        out = {k: getattr(self, k) for k in (
            "vertices", "welded_vertices", "faces", "units", "closed", "manifold", "boundary_edges", "holes",
            "non_manifold_edges", "non_manifold_vertices", "winding_consistent", "inconsistent_edges",
            "outward", "inverted_parts", "cavities", "degenerate_faces", "duplicate_faces", "self_intersections",
            "self_intersections_capped", "genus", "share_measure", "speck_fraction", "specks")}
        out["size"] = [float(s) for s in self.size]
        out["part_count"] = len(self.parts)
        out["parts"] = [vars(p) for p in self.parts[:PARTS_LISTED]]
        out["passes"] = self.passes()
        out["problems"] = self.problems()
        out["verdict"] = self.verdict()
        return out


REQUIREMENTS: dict[str, tuple[Callable[[MeshReport], bool], Callable[[MeshReport], str]]] = {
    "closed": (lambda r: r.closed, MeshReport.closed_text),
    "manifold": (lambda r: r.manifold, MeshReport.manifold_text),
    "outward": (lambda r: r.outward is True, MeshReport.normals_text),
    "no_specks": (lambda r: r.specks == 0, MeshReport.specks_text),
    "no_degenerate": (lambda r: r.degenerate_faces == 0, lambda r: count_noun(r.degenerate_faces, "degenerate face")),
    "no_duplicates": (lambda r: r.duplicate_faces == 0, lambda r: count_noun(r.duplicate_faces, "duplicate face")),
    "no_self_intersections": (lambda r: r.self_intersections == 0 and not r.self_intersections_capped,
                              lambda r: "self-intersections: "
                              + r.self_intersections_text()),
}
"""Requirement name -> (holds(report), what to say when it does not)."""


def weld(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """The geometry of ``mesh`` with vertices merged by position only (UVs, normals and colours ignored).

    Returns a new mesh without visuals: vertices ``(V', 3)``, the same faces ``(F, 3)`` in the same order."""
    if not isinstance(mesh, trimesh.Trimesh):
        raise InputError(f"expected a triangle mesh (trimesh.Trimesh), got {type(mesh).__name__}")
    if len(mesh.vertices) == 0 or len(mesh.faces) == 0:
        raise InputError("mesh is empty (no vertices or no faces)")
    if not np.isfinite(np.asarray(mesh.vertices)).all():
        raise InputError("mesh has NaN or infinite vertex coordinates")
    out = trimesh.Trimesh(np.asarray(mesh.vertices, np.float64), np.asarray(mesh.faces, np.int64), process=False)
    out.merge_vertices(merge_tex=True, merge_norm=True)
    return out


def _parts(top: Topology, welded: trimesh.Trimesh, speck_fraction: float) -> tuple[list[Part], str]:
    """Per-part area, signed volume, share, speck and orientation flags, in label order; the share measure
    (``"volume"`` when every part is closed and encloses some volume, else ``"area"``)."""
    count, labels = top.part_count, top.face_parts
    keep = labels >= 0
    tri = welded.triangles[keep] - welded.bounds.mean(axis=0)  # about the centre: volumes lose no precision
    area = np.bincount(labels[keep], welded.area_faces[keep], minlength=count)
    volume = np.bincount(labels[keep], np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])) / 6.0,
                         minlength=count)
    by_volume = bool(count and top.part_closed.all() and (np.abs(volume) > 0).all())
    size = np.abs(volume) if by_volume else area
    share = size / size.sum() if size.sum() > 0 else np.full(count, 1.0 / max(count, 1))
    speck = share < speck_fraction
    if count:
        speck[int(np.argmax(share))] = False  # the largest part stays, whatever the threshold
    judged = top.part_closed & (top.part_inconsistent == 0)  # orientation is defined for these parts
    inside = enclosing_parity(welded, labels, judged) if (judged & (volume < 0)).any() else np.zeros(count, bool)
    cavity = judged & (volume < 0) & inside
    inverted = judged & (volume < 0) & ~inside
    parts = [Part(int(top.part_faces[i]), float(area[i]), float(volume[i]) if top.part_closed[i] else None,
                  float(share[i]), bool(top.part_closed[i]), None if top.part_genus[i] < 0 else int(top.part_genus[i]),
                  bool(speck[i]), bool(inverted[i]), bool(cavity[i])) for i in range(count)]
    return parts, "volume" if by_volume else "area"


def check_mesh_quality(mesh: trimesh.Trimesh, speck_fraction: float = SPECK_FRACTION, units: str = "units",
                       self_intersections: bool = True, max_pair_tests: int = MAX_PAIR_TESTS) -> MeshReport:
    """Measure the quality of ``mesh`` (vertices ``(V, 3)``, faces ``(F, 3)``), welded by position first.

    Args:
        mesh: the mesh; not modified.
        speck_fraction: parts under this share of the total volume (area when some part is open) are specks.
        units: the unit of the coordinates, for the size (``"metres"`` for glTF/GLB, else ``"units"``).
        self_intersections: count intersecting triangle pairs (the slowest item: 0.6 s for 50,000 faces);
            ``False`` leaves ``self_intersections`` None.
        max_pair_tests: budget of triangle-pair tests; over it the count is a lower bound ("at least N").

    Raises:
        InputError: an empty mesh, NaN coordinates, no face with three distinct vertices, a speck fraction outside
            [0, 1).
    """
    if not 0.0 <= speck_fraction < 1.0:
        raise InputError(f"speck fraction must be in [0, 1), got {speck_fraction}")
    welded = weld(mesh)
    faces = welded.faces
    if not ((faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])).any():
        raise InputError("mesh has no surface: every face repeats a vertex (after welding by position)")
    top = topology(welded)
    parts, measure = _parts(top, welded, speck_fraction)
    order = np.argsort([-p.share for p in parts], kind="stable").astype(np.int64)  # largest part first
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    face_parts = np.where(top.face_parts >= 0, rank[np.maximum(top.face_parts, 0)], -1) if len(order) \
        else top.face_parts
    inverted = sum(p.inverted for p in parts)
    judged_all = bool(parts) and bool((top.part_closed & (top.part_inconsistent == 0)).all())
    outward = False if top.inconsistent_edges or inverted else (True if judged_all else None)
    pairs, capped = None, False
    if self_intersections:
        found, capped = self_intersecting_pairs(welded.vertices, welded.faces[top.face_parts >= 0], max_pair_tests)
        pairs = len(found)
    genus = int(top.part_genus.sum()) if len(parts) and (top.part_genus >= 0).all() else None
    return MeshReport(
        vertices=len(mesh.vertices), welded_vertices=len(welded.vertices), faces=len(welded.faces),
        size=tuple(float(s) for s in welded.extents), units=units,
        boundary_edges=top.boundary_edges, holes=top.holes, non_manifold_edges=top.non_manifold_edges,
        non_manifold_vertices=top.non_manifold_vertices, inconsistent_edges=top.inconsistent_edges,
        inverted_parts=inverted, cavities=sum(p.cavity for p in parts), outward=outward,
        degenerate_faces=int((~welded.nondegenerate_faces()).sum()),
        duplicate_faces=int(len(welded.faces) - welded.unique_faces().sum()),
        self_intersections=pairs, self_intersections_capped=capped, genus=genus,
        parts=tuple(parts[i] for i in order), share_measure=measure, speck_fraction=float(speck_fraction),
        face_parts=face_parts)
