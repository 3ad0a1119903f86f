"""Headless rendering of meshes with their own textures and colours, and turntables (Open3D CPU ray casting).

- :mod:`~lift3d.render.mesh`: :func:`render_mesh` (one camera -> :class:`RenderResult`: RGBA, float RGB, mask,
  depth), ``unlit`` (albedo exactly) or ``shaded`` (Lambert + ambient).
- :mod:`~lift3d.render.surface`: albedo at a hit from ``TextureVisuals`` / vertex / face colours.
- :mod:`~lift3d.render.turntable`: :func:`render_turntable_frames` / :func:`iter_turntable_frames` (orbit about +Y,
  framed by the bounding sphere) and :func:`write_frames` (.png contact sheet, .gif, .mp4), written atomically.
- :mod:`~lift3d.render.renderable`: points (splats) and voxels (cubes) as meshes to render.

The dataset renderer (:mod:`lift3d.data.render`) draws synthetic shapes with random materials and lights; this
package draws a given model as it is.
"""

from lift3d.render.mesh import LIGHTINGS, RenderResult, render_mesh
from lift3d.render.renderable import as_render_mesh, points_mesh, voxels_mesh
from lift3d.render.turntable import (
    TURNTABLE_EXTENSIONS,
    check_turntable_output,
    iter_turntable_frames,
    render_turntable_frames,
    turntable_cameras,
    write_frames,
)

__all__ = ["LIGHTINGS", "TURNTABLE_EXTENSIONS", "RenderResult", "as_render_mesh", "check_turntable_output",
           "iter_turntable_frames", "points_mesh", "render_mesh", "render_turntable_frames", "turntable_cameras",
           "voxels_mesh", "write_frames"]
