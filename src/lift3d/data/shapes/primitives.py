"""Solid primitives and CSG on manifold3d, the exact mesh-boolean library (always watertight output).

Each primitive is a :class:`manifold3d.Manifold` tagged as an "original" so that after a union the
faces can be traced back to the part they came from (``run_original_id``), which gives per-face part ids.
"""

from __future__ import annotations

import numpy as np
import trimesh
from manifold3d import CrossSection, Manifold, OpType

SEGMENTS = 24  # circular segments: smooth enough for 128 px renders and 32^3 voxels, cheap to union


def box(size, center=(0.0, 0.0, 0.0)) -> Manifold:
    """Axis-aligned box with side lengths ``size (3,)`` centred at ``center``."""
    return Manifold.cube(tuple(float(s) for s in size), center=True).translate(tuple(map(float, center)))


def cylinder(
    radius: float,
    height: float,
    center=(0.0, 0.0, 0.0),
    axis: str = "y",
    radius_top: float | None = None,
    segments: int = SEGMENTS,
) -> Manifold:
    """Cylinder / frustum along ``axis`` ('x', 'y' or 'z') centred at ``center``."""
    top = radius if radius_top is None else radius_top
    m = Manifold.cylinder(float(height), float(radius), float(top), segments, center=True)  # along z
    if axis == "y":
        m = m.rotate((-90.0, 0.0, 0.0))  # z -> y (bottom radius stays at -y)
    elif axis == "x":
        m = m.rotate((0.0, 90.0, 0.0))
    return m.translate(tuple(map(float, center)))


def sphere(radius: float, center=(0.0, 0.0, 0.0), scale=(1.0, 1.0, 1.0), segments: int = SEGMENTS) -> Manifold:
    """(Ellipsoidal) sphere: a unit sphere scaled by ``radius * scale`` and moved to ``center``."""
    m = Manifold.sphere(1.0, segments).scale(tuple(float(radius * s) for s in scale))
    return m.translate(tuple(map(float, center)))


def tube(points, radius: float, segments: int = 12) -> Manifold:
    """A rounded tube through ``points (K, 3)``: the union of hulls of consecutive spheres."""
    balls = [Manifold.sphere(float(radius), segments).translate(tuple(map(float, p))) for p in points]
    return Manifold.batch_boolean(
        [Manifold.batch_hull([a, b]) for a, b in zip(balls[:-1], balls[1:], strict=True)], OpType.Add
    )


def revolve(radii, heights, segments: int = 32) -> Manifold:
    """Solid of revolution about +Y from a profile: ``radii (K,)`` at ``heights (K,)`` (bottom to top).

    The profile is closed through the axis, so the solid is filled.
    """
    r = np.maximum(np.asarray(radii, float), 1e-3)
    h = np.asarray(heights, float)
    poly = [(0.0, float(h[0]))] + [(float(a), float(b)) for a, b in zip(r, h, strict=True)] + [(0.0, float(h[-1]))]
    m = Manifold.revolve(CrossSection([poly]), segments)  # profile's Y becomes Z
    return m.rotate((-90.0, 0.0, 0.0))


def _section(pts: list[tuple[float, float]]) -> CrossSection:
    """A cross-section from a simple polygon of either orientation (manifold needs counter-clockwise)."""
    a = np.asarray(pts)
    signed = 0.5 * float(np.sum(a[:, 0] * np.roll(a[:, 1], -1) - np.roll(a[:, 0], -1) * a[:, 1]))
    return CrossSection([pts if signed > 0 else pts[::-1]])


def extrude_xz(polygon, thickness: float, y: float = 0.0) -> Manifold:
    """A flat plate: the polygon ``(K, 2)`` in the XZ plane (x, z), extruded ``thickness`` along Y at height ``y``."""
    pts = [(float(x), float(-z)) for x, z in polygon]  # after the rotation below, -z -> +z
    m = Manifold.extrude(_section(pts), float(thickness)).rotate((-90.0, 0.0, 0.0))
    return m.translate((0.0, float(y - thickness / 2.0), 0.0))


def extrude_xy(polygon, thickness: float, z: float = 0.0) -> Manifold:
    """A vertical plate: the polygon ``(K, 2)`` in the XY plane, extruded ``thickness`` along Z centred at ``z``."""
    m = Manifold.extrude(_section([(float(x), float(y)) for x, y in polygon]), float(thickness))
    return m.translate((0.0, 0.0, float(z - thickness / 2.0)))


def union_to_trimesh(parts: list[Manifold], subtract: list[Manifold] | None = None) -> trimesh.Trimesh:
    """Union the parts (minus ``subtract``) -> watertight trimesh with ``metadata["part_ids"] (F,)``.

    Part ids index ``parts`` in order; faces created by a subtracted solid get the id ``len(parts)``.
    """
    tagged = [p.as_original() for p in parts]
    ids = {m.original_id(): i for i, m in enumerate(tagged)}
    solid = Manifold.batch_boolean(tagged, OpType.Add)
    if subtract:
        cut = [c.as_original() for c in subtract]
        ids.update({c.original_id(): len(parts) for c in cut})
        solid = solid - Manifold.batch_boolean(cut, OpType.Add)
    mesh = solid.to_mesh()
    verts = np.asarray(mesh.vert_properties, dtype=np.float64)[:, :3]
    faces = np.asarray(mesh.tri_verts, dtype=np.int64)
    run_index = np.asarray(mesh.run_index, dtype=np.int64)
    run_ids = np.asarray(mesh.run_original_id, dtype=np.int64)
    part_ids = np.zeros(len(faces), dtype=np.int64)
    for k, oid in enumerate(run_ids):
        part_ids[run_index[k] // 3 : run_index[k + 1] // 3] = ids.get(int(oid), 0)
    out = trimesh.Trimesh(vertices=verts, faces=faces, process=False)
    out.metadata["part_ids"] = part_ids
    return out
