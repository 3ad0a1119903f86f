"""Repair what a :class:`~lift3d.quality.report.MeshReport` calls for, with the refinement pipeline's steps.

Order: drop specks (the parts the report lists), ``clean`` (degenerate and duplicate faces), ``fill`` (holes),
``normals`` (inconsistent winding, inverted parts; the walls of cavities keep facing in), and ``watertight`` only
when asked (it may rebuild the surface as a voxel remesh; if manifold3d accepts a mesh the report still calls
non-manifold, the voxel remesh is run directly). Each step runs only when a fresh report (without the slow
self-intersection count) still calls for it; specks are dropped again after a remesh. Self-intersections are
reported, never repaired.

Dropping specks and flipping faces keep the mesh's texture / colours (faces are removed or turned, vertices stay);
``clean``, ``fill`` and ``watertight`` return geometry only, so after them the visuals are gone (the note says so).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import trimesh

from lift3d.errors import InputError
from lift3d.postprocess.pipeline import MAX_WATERTIGHT_RES, Step
from lift3d.postprocess.repair import voxel_remesh
from lift3d.quality.report import REQUIREMENTS, MeshReport, check_mesh_quality, count_noun, weld

HINTS = {
    "manifold": "not repaired: --watertight rebuilds the surface (voxel remesh)",
    "closed": "hole filling could not close it: --watertight rebuilds the surface (voxel remesh)",
    "no_self_intersections": "reported, not repaired",
}


class FixResult(NamedTuple):
    """``mesh`` the repaired mesh, ``notes`` one line per repair done, ``unfixed`` one line per defect left,
    ``report`` the report of the repaired mesh."""

    mesh: trimesh.Trimesh
    notes: list[str]
    unfixed: list[str]
    report: MeshReport


def _dropped(mesh: trimesh.Trimesh, geometry_only: bool) -> str:
    """The note's tail when a geometry-only repair first drops ``mesh``'s texture / colours."""
    if geometry_only or mesh.visual is None or mesh.visual.kind is None:
        return ""
    return " (texture / colours dropped: this repair returns geometry only)"


def _drop_specks(mesh: trimesh.Trimesh, report: MeshReport) -> tuple[trimesh.Trimesh, str]:
    """Remove the faces of the parts ``report`` calls specks; vertices and visuals of the rest are kept."""
    speck = np.array([p.speck for p in report.parts] + [False])  # index -1 (faces with a repeated vertex): kept
    drop = speck[report.face_parts]
    out = mesh.copy()
    out.update_faces(~drop)
    out.remove_unreferenced_vertices()
    share = sum(p.share for p in report.parts if p.speck)
    return out, (f"specks: dropped {count_noun(report.specks, 'part')} ({count_noun(int(drop.sum()), 'face')}, "
                 f"{100 * share:.2g}% of the {report.share_measure})")


def _flip_like(mesh: trimesh.Trimesh, oriented: trimesh.Trimesh) -> trimesh.Trimesh:
    """``mesh`` with the faces turned that ``oriented`` (the same faces, same order, welded) has turned: its own
    vertices and visuals are kept."""
    a, b = np.asarray(oriented.faces), weld(mesh).faces
    same = np.zeros(len(a), bool)
    for shift in range(3):
        same |= (a == np.roll(b, shift, axis=1)).all(axis=1)
    out = mesh.copy()
    faces = np.array(out.faces)
    faces[~same] = faces[~same, ::-1]
    out.faces = faces
    return out


def _orient(mesh: trimesh.Trimesh, report: MeshReport) -> tuple[trimesh.Trimesh, str]:
    """The ``normals`` step on ``mesh`` welded (consistent winding, every closed part outward), then the walls
    of cavities the report found turned back to face in. Returns the welded mesh, faces in the same order."""
    oriented, note = Step("normals").run(weld(mesh))
    walls = np.array([p.cavity for p in report.parts] + [False])[report.face_parts]
    if walls.any():
        faces = np.array(oriented.faces)
        faces[walls] = faces[walls, ::-1]
        oriented = trimesh.Trimesh(oriented.vertices, faces, process=False)
        note += f", then {count_noun(report.cavities, 'cavity wall')} turned back to face in"
    return oriented, note


def fix_mesh(mesh: trimesh.Trimesh, report: MeshReport | None = None, watertight: bool = False,
             watertight_res: int = 64, self_intersections: bool = True) -> FixResult:
    """Repair ``mesh`` (vertices ``(V, 3)``, faces ``(F, 3)``; not modified) as its report calls for.

    Args:
        mesh: the mesh to repair.
        report: ``check_mesh_quality(mesh)``, if already computed (its speck fraction and units are reused).
        watertight: also run the ``watertight`` step when the mesh is still not a closed manifold (may remesh).
        watertight_res: its voxel resolution, in [4, 256].
        self_intersections: count self-intersections in the final report.

    Returns:
        :class:`FixResult` ``(mesh, notes, unfixed, report)``; ``unfixed`` lists every defect of the final report
        (all of :data:`~lift3d.quality.report.REQUIREMENTS`), each with what to do about it.
    """
    if report is None:
        report = check_mesh_quality(mesh, self_intersections=False)
    elif report.faces != len(mesh.faces):
        raise InputError(f"the report is of a mesh with {report.faces:,} faces, this one has {len(mesh.faces):,}")
    if not 4 <= watertight_res <= MAX_WATERTIGHT_RES:
        raise InputError(f"watertight resolution must be in [4, {MAX_WATERTIGHT_RES}], got {watertight_res}")
    fraction, units = report.speck_fraction, report.units

    def quick(m: trimesh.Trimesh) -> MeshReport:
        return check_mesh_quality(m, fraction, units, self_intersections=False)

    out, notes, geometry_only = mesh, [], False
    now = report
    if now.specks:
        out, note = _drop_specks(out, now)
        notes.append(note)
        now = quick(out)
    plan = [("clean", lambda r: r.degenerate_faces or r.duplicate_faces, ()),
            ("fill", lambda r: r.boundary_edges, ()),
            ("normals", lambda r: r.inconsistent_edges or r.inverted_parts, ()),
            ("watertight", lambda r: watertight and not (r.closed and r.manifold), (watertight_res,))]
    for name, needed, args in plan:
        if not needed(now):
            continue
        if name == "normals":
            oriented, note = _orient(out, now)
            out = oriented if geometry_only else _flip_like(out, oriented)
        else:
            out, note = Step(name, args).run(out)
            note, geometry_only = note + _dropped(mesh, geometry_only), True
        notes.append(note)
        now = quick(out)
    if watertight and not (now.closed and now.manifold):
        # manifold3d accepts edges and vertices where two solids touch; the report does not: rebuild the surface
        out = voxel_remesh(out, watertight_res)
        notes.append(f"watertight: voxel remesh at {watertight_res} ({now.manifold_text()} left by the step; detail "
                     f"under 1/{watertight_res} of the size lost), {count_noun(len(out.faces), 'face')}"
                     + _dropped(mesh, geometry_only))
        now = quick(out)
    if now.specks:  # a voxel remesh can leave small bubbles where thin parts were
        out, note = _drop_specks(out, now)
        notes.append(note)
    final = check_mesh_quality(out, fraction, units, self_intersections=self_intersections)
    unfixed = [f"{text} ({HINTS[name]})" if name in HINTS else text
               for name in REQUIREMENTS for text in final.problems((name,))]
    return FixResult(out, notes, unfixed, final)
