"""Isotropic remeshing through MeshLab (pymeshlab's ``meshing_isotropic_explicit_remeshing``).

Botsch & Kobbelt's explicit remeshing: edges longer than 4/3 of the target are split, shorter than 4/5
collapsed, edges flipped toward valence 6, vertices relaxed tangentially and re-projected onto the input
surface. Every local operation that would move the surface farther than :data:`MAX_SURFACE_DISTANCE` of the
bounding-box diagonal is refused, which bounds the Hausdorff distance to the input; where that refuses the
target length (a coarse target on a curved surface), edges stay shorter than asked. Creases sharper than
``feature_angle`` degrees are kept as edges (a box stays a box).

Measured on a Taubin-smoothed 32^3 marching-cubes sphere (4.7k faces, mean edge 0.031): edge length 0.02 ->
8.5k faces, edge lengths' std/mean 0.12, 0.9 s on a loaded 2-core machine; 0.04 -> 2.1k faces, 0.2 s.
"""

from __future__ import annotations

import math

import numpy as np
import trimesh

from lift3d.errors import InputError, Lift3DError
from lift3d.limits import MESH_FACES, check_number
from lift3d.postprocess.repair import _check_mesh

MAX_SURFACE_DISTANCE = 0.01  # of the bounding-box diagonal: MeshLab's default surface-distance check
MAX_ITERATIONS = 100
FACES_PER_AREA = 4.0 / math.sqrt(3.0)  # equilateral triangles of edge L: area / L^2 * this = face count


def expected_faces(area: float, edge_length: float) -> float:
    """About how many faces a surface of ``area`` has when tiled by equilateral triangles of ``edge_length``."""
    return FACES_PER_AREA * area / edge_length**2


def isotropic_remesh(mesh: trimesh.Trimesh, edge_length: float | None = None, iterations: int = 10,
                     feature_angle: float = 30.0) -> trimesh.Trimesh:
    """Remesh into near-equilateral triangles with edges of about ``edge_length``.

    Args:
        mesh: vertices ``(V, 3)`` (finite), faces ``(F, 3)``, with a positive surface area.
        edge_length: target edge length in mesh units; ``None`` keeps the input's mean edge length (same
            density, regular triangles). Refused when the result would exceed the ``MESH_FACES`` limit
            (about ``4 / sqrt(3) * area / edge_length^2`` faces).
        iterations: remeshing passes, in [1, 100].
        feature_angle: dihedral angle in degrees above which an edge is a crease and kept, in [0, 180].

    Returns:
        A new mesh, vertices ``(V', 3)`` float64, faces ``(F', 3)`` int64, with the input's orientation.
    """
    import pymeshlab

    _check_mesh(mesh)
    verts = np.asarray(mesh.vertices, np.float64)
    if not np.isfinite(verts).all():
        raise InputError("mesh has NaN or infinite vertex coordinates (run 'clean' first)")
    area = float(mesh.area)
    if not area > 0:
        raise InputError("mesh has no surface area (all faces degenerate): nothing to remesh")
    if edge_length is None:
        edge_length = float(mesh.edges_unique_length.mean())
    check_number(edge_length, "remesh edge length", 0.0, math.inf, lo_open=True)
    check_number(iterations, "remesh iterations", 1, MAX_ITERATIONS)
    check_number(feature_angle, "remesh feature angle", 0.0, 180.0)
    faces_wanted = expected_faces(area, edge_length)
    if faces_wanted > MESH_FACES.value:
        shortest = math.sqrt(FACES_PER_AREA * area / MESH_FACES.value)
        raise InputError(f"remesh edge length {edge_length:.3g} would make about {faces_wanted:.3g} faces, over the "
                         f"limit of {MESH_FACES.value:,}: use an edge length of at least {shortest:.3g} for this "
                         f"mesh (or set {MESH_FACES.env})")

    meshset = pymeshlab.MeshSet()
    meshset.add_mesh(pymeshlab.Mesh(vertex_matrix=verts, face_matrix=np.asarray(mesh.faces, np.int32)))
    try:
        meshset.meshing_isotropic_explicit_remeshing(
            iterations=int(iterations), targetlen=pymeshlab.PureValue(float(edge_length)),
            featuredeg=float(feature_angle), checksurfdist=True,
            maxsurfdist=pymeshlab.PercentageValue(100.0 * MAX_SURFACE_DISTANCE))
    except pymeshlab.PyMeshLabException as exc:
        raise Lift3DError(f"isotropic remeshing failed: {exc}") from exc
    result = meshset.current_mesh()
    out = trimesh.Trimesh(result.vertex_matrix(), result.face_matrix().astype(np.int64), process=True)
    if len(out.faces) == 0:
        raise Lift3DError("isotropic remeshing left no faces")
    return out
