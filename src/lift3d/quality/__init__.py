"""Mesh quality: a report (closed, manifold, outward normals, specks, degenerate faces, self-intersections, genus)
and the repairs it calls for. See docs/check.md and ``lift3d check``.

- ``report.py``: :func:`check_mesh_quality` -> :class:`MeshReport` (``verdict()``, ``passes()``, ``to_dict()``).
- ``topology.py``: edge topology of the mesh welded by position (holes, non-manifold edges, winding, parts, genus).
- ``intersect.py``: intersecting triangle pairs (Open3D on a kd-split of the faces).
- ``fix.py``: :func:`fix_mesh` -> ``(mesh, notes, unfixed, report)`` with the refinement pipeline's steps.
"""

from lift3d.quality.fix import FixResult, fix_mesh
from lift3d.quality.report import DEFAULT_REQUIRE, REQUIREMENTS, MeshReport, Part, check_mesh_quality, weld

__all__ = ["DEFAULT_REQUIRE", "REQUIREMENTS", "FixResult", "MeshReport", "Part", "check_mesh_quality",
           "fix_mesh", "weld"]
