"""Removing the photo's smooth shading from projected colours (``--delight``)."""

from __future__ import annotations

import numpy as np
import trimesh

from lift3d.geometry.cameras import orbit_camera
from lift3d.postprocess.delight import LUMA, remove_shading


def _sphere_photo(lighting: str, striped: bool = False):
    from lift3d.render import render_mesh

    sphere = trimesh.creation.icosphere(4, radius=0.45)
    painted = trimesh.Trimesh(sphere.vertices, sphere.faces, process=False)
    rgb = np.tile([0.8, 0.35, 0.2], (len(sphere.vertices), 1))
    if striped:  # albedo that changes with height, not with how the surface faces the light
        rgb[np.sin(20 * sphere.vertices[:, 1]) > 0] = [0.2, 0.5, 0.8]
    painted.visual = trimesh.visual.ColorVisuals(painted, vertex_colors=np.round(np.c_[rgb, np.ones(len(rgb))] * 255)
                                                 .astype(np.uint8))
    cam = orbit_camera(20.0, 15.0, 2.4, 160, 160)
    photo = render_mesh(painted, cam, lighting=lighting, ss=2).rgba
    return sphere, photo, cam


def _seen_luminance(mesh, photo, cam, delight):
    from lift3d.postprocess.texture import project_colours, vertex_colors_from_views

    out = vertex_colors_from_views(mesh, [photo[..., :3]], [cam], [photo[..., 3] >= 128], symmetry=False,
                                   delight=delight)
    _, seen = project_colours(mesh.vertices, mesh.vertex_normals, mesh, [photo[..., :3] / 255.0], [cam],
                              [photo[..., 3] >= 128])
    rgb = out.visual.vertex_colors[seen, :3] / 255.0
    return rgb, out.metadata["texture"]


def test_shading_of_a_uniform_object_is_removed():
    sphere, photo, cam = _sphere_photo("shaded")
    before, _ = _seen_luminance(sphere, photo, cam, delight=False)
    after, stats = _seen_luminance(sphere, photo, cam, delight=True)
    cv = [(x @ LUMA).std() / (x @ LUMA).mean() for x in (before, after)]
    assert stats["delight_applied"] == 1 and stats["delight_r2"] > 0.5
    assert cv[1] < 0.5 * cv[0], cv  # the brightness falls off much less across the sphere
    # The hue is kept: dividing by one shading factor per point leaves red / green as it was.
    ratio = [np.median(x[:, 0] / np.maximum(x[:, 1], 1e-3)) for x in (before, after)]
    assert abs(ratio[1] - ratio[0]) < 0.1 * ratio[0], ratio


def test_colour_that_does_not_follow_the_normals_is_left_alone():
    sphere, photo, cam = _sphere_photo("unlit", striped=True)
    before, _ = _seen_luminance(sphere, photo, cam, delight=False)
    after, stats = _seen_luminance(sphere, photo, cam, delight=True)
    assert stats["delight_applied"] == 0 and stats["delight_r2"] < 0.15
    assert np.array_equal(before, after)


def test_remove_shading_edge_cases():
    colours = np.full((10, 3), 0.5, np.float32)
    normals = np.tile([0.0, 0.0, 1.0], (10, 1))
    out, info = remove_shading(colours, normals, np.ones(10, bool))  # too few points: untouched
    assert np.array_equal(out, colours) and info["applied"] == 0
