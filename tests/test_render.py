"""Headless renderer (lift3d.data.render): buffers, shading, backgrounds, cameras. Complements test_data.py."""

import numpy as np
import pytest
import trimesh
from scipy import ndimage

from lift3d.data.render import (
    FOV_DEG,
    fit_distance,
    random_cameras,
    render_turntable,
    render_views,
    turntable_cameras,
)
from lift3d.geometry.cameras import depth_to_points, orbit_camera, spherical_eye


def _tilted_box() -> trimesh.Trimesh:
    box = trimesh.creation.box(extents=(0.6, 0.4, 0.8))
    box.apply_transform(trimesh.transformations.rotation_matrix(0.5, [1, 1, 0]))
    return box


def test_odd_image_size_buffers_and_dtypes(sphere):
    (v,) = render_views(sphere, [orbit_camera(10, 20, fit_distance(), 137, 137)], 0)
    assert v.rgba.shape == (137, 137, 4) and v.rgba.dtype == np.uint8
    assert v.depth.shape == (137, 137) and v.depth.dtype == np.float32
    assert v.mask.shape == (137, 137) and v.mask.dtype == bool
    assert v.normals.shape == (137, 137, 3) and v.normals.dtype == np.float32
    # background: depth 0, normals 0, transparent
    assert np.all(v.depth[~v.mask] == 0) and np.all(v.normals[~v.mask] == 0)
    assert np.all(v.rgba[~ndimage.binary_dilation(v.mask), 3] == 0)
    # z-depth of a sphere of radius 0.4 at distance d lies in [d - 0.4, d]
    d = fit_distance()
    assert v.depth[v.mask].min() == pytest.approx(d - 0.4, abs=2e-3)
    assert v.depth[v.mask].max() < d


def test_normals_are_world_space_unit_and_outward(sphere):
    cams = [orbit_camera(az, el, fit_distance(), 48, 48) for az, el in ((0, 0), (135, 30), (270, -10))]
    for v in render_views(sphere, cams, 0, supersample=1):
        n = v.normals[v.mask]
        np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-4)
        pts = depth_to_points(v.depth, v.camera)
        radial = pts / np.linalg.norm(pts, axis=1, keepdims=True)
        # on a sphere the world normal is the radial direction (faceted icosphere: within a few degrees)
        assert np.mean(np.sum(n * radial, axis=1)) > 0.995
        assert np.all(n @ v.camera.center - np.sum(n * pts, axis=1) > 0)  # faces the camera


def test_single_part_colour_and_shading_range(box_mesh):
    """rgb = base * (0.35 + 0.65 * lambert) + 0.15 * specular, base = pure red."""
    cams = turntable_cameras(3, 48, elevation=25.0)
    for v in render_views(box_mesh, cams, 3, colors=np.array([[1.0, 0.0, 0.0]]), supersample=1):
        inner = ndimage.binary_erosion(v.mask, iterations=1)
        r, g, b = (v.rgba[inner, c].astype(int) for c in range(3))
        assert r.min() >= int(0.35 * 255) and g.max() <= int(0.15 * 255) + 1 and b.max() <= int(0.15 * 255) + 1
        assert np.array_equal(g, b)  # specular is white: adds equally to G and B


def test_part_ids_colour_each_part(sphere):
    top = sphere.triangles_center[:, 1] > 0  # part 1 = upper half (+Y up -> upper half of the image)
    parts = top.astype(np.int64)
    (v,) = render_views(sphere, [orbit_camera(0, 0, fit_distance(), 64, 64)], 0, part_ids=parts,
                        colors=np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), supersample=1)
    rgb = v.rgba[..., :3].astype(int)
    upper, lower = v.mask.copy(), v.mask.copy()
    upper[30:] = False
    lower[:34] = False
    assert np.all(rgb[upper, 1] > rgb[upper, 0]) and np.all(rgb[lower, 0] > rgb[lower, 1])


def test_part_ids_default_from_metadata_and_seeded_colours(box_mesh):
    box_mesh.metadata["part_ids"] = np.arange(len(box_mesh.faces)) % 2
    cam = [orbit_camera(30, 20, fit_distance(), 32, 32)]
    a, b = render_views(box_mesh, cam, 7)[0], render_views(box_mesh, cam, 7)[0]
    c = render_views(box_mesh, cam, 8)[0]
    assert np.array_equal(a.rgba, b.rgba)  # same seed -> same colours and light
    assert not np.array_equal(a.rgba, c.rgba)
    assert np.array_equal(a.mask, c.mask) and np.array_equal(a.depth, c.depth)  # geometry does not depend on it
    # rng given as a Generator works the same as an int seed
    d = render_views(box_mesh, cam, np.random.default_rng(7))[0]
    assert np.array_equal(a.rgba, d.rgba)


def test_backgrounds(sphere):
    cams = turntable_cameras(2, 32)
    solid = render_views(sphere, cams, 0, background=(0.0, 0.0, 1.0))
    for v in solid:
        assert np.all(v.rgba[..., 3] == 255)
        far = ~ndimage.binary_dilation(v.mask)
        assert np.all(v.rgba[far, :3] == [0, 0, 255])
    rand = render_views(sphere, cams, 0, background="random")
    corners = [tuple(v.rgba[0, 0, :3]) for v in rand]
    assert corners[0] != corners[1]  # a fresh colour per view
    assert all(np.all(v.rgba[..., 3] == 255) for v in rand)
    clear = render_views(sphere, cams, 0)
    assert np.all(clear[0].rgba[0, 0] == 0)


def test_supersampling_antialiases_only_the_edges(sphere):
    cam = [orbit_camera(0, 0, fit_distance(), 48, 48)]
    (v1,) = render_views(sphere, cam, 0, supersample=1)
    (v3,) = render_views(sphere, cam, 0, supersample=3)
    a1, a3 = v1.rgba[..., 3], v3.rgba[..., 3]
    assert set(np.unique(a1)) == {0, 255}  # no anti-aliasing without supersampling
    partial = (a3 > 0) & (a3 < 255)
    edge = ndimage.binary_dilation(v1.mask) & ~ndimage.binary_erosion(v1.mask)
    assert partial.sum() > 20 and np.all(edge[partial])  # fractional coverage only on the silhouette
    # odd supersampling has a true centre ray: geometry buffers equal the 1-ray render exactly
    assert np.array_equal(v1.mask, v3.mask) and np.array_equal(v1.depth, v3.depth)


def test_default_supersampling_keeps_geometry_at_pixel_centres():
    cam = [orbit_camera(30, 20, fit_distance(), 64, 64)]
    box = _tilted_box()
    (v1,) = render_views(box, cam, 0, supersample=1)
    (v2,) = render_views(box, cam, 0, supersample=2)
    assert np.array_equal(v1.mask, v2.mask)
    np.testing.assert_allclose(v1.depth, v2.depth, atol=1e-5)


def test_random_cameras_ranges_and_framing():
    rng = np.random.default_rng(1)
    cams = random_cameras(rng, 200, 32, elevation=(-10.0, 40.0))
    az = np.array([c[1] for c in cams])
    el = np.array([c[2] for c in cams])
    dist = np.array([c[3] for c in cams])
    assert az.min() >= 0 and az.max() < 360 and np.ptp(az) > 300
    assert el.min() >= -10 and el.max() <= 40
    d0 = 0.75 / np.sin(np.radians(FOV_DEG / 2))
    assert fit_distance() == pytest.approx(d0)
    assert dist.min() >= 0.95 * d0 - 1e-9 and dist.max() <= 1.05 * d0 + 1e-9
    for cam, a, e, d in cams[:5]:
        np.testing.assert_allclose(cam.center, spherical_eye(a, e, d), atol=1e-9)
        assert cam.width == cam.height == 32
    # same generator state -> same cameras
    again = random_cameras(np.random.default_rng(1), 200, 32)
    assert [c[1:] for c in again] == [c[1:] for c in cams]


def test_a_canonical_sphere_stays_in_frame_and_fills_it():
    """Radius 0.5 (touches the canonical cube's faces) never reaches the image border at the fitted distance."""
    ball = trimesh.creation.icosphere(subdivisions=3, radius=0.5)
    views = render_views(ball, random_cameras(np.random.default_rng(2), 6, 48), 0, supersample=1)
    for v in views:
        m = v.mask
        assert not (m[0].any() or m[-1].any() or m[:, 0].any() or m[:, -1].any())
        rows = np.flatnonzero(m.any(axis=1))
        d = np.linalg.norm(v.camera.center)
        # angular radius asin(0.5/d) against the half FOV: width fraction tan(asin(0.5/d)) / tan(20 deg)
        expected = np.tan(np.arcsin(0.5 / d)) / np.tan(np.radians(FOV_DEG / 2))
        assert (rows[-1] + 1 - rows[0]) / 48 == pytest.approx(expected, abs=2.5 / 48)


def test_turntable_cameras_and_tile():
    cams = turntable_cameras(4, 16, elevation=15.0)
    assert [c[1] for c in cams] == [0.0, 90.0, 180.0, 270.0]
    assert all(c[2] == 15.0 for c in cams)
    np.testing.assert_allclose(cams[0][0].center, spherical_eye(0.0, 15.0, fit_distance()), atol=1e-9)
    img = render_turntable(trimesh.creation.icosphere(subdivisions=2, radius=0.4), n_views=3, size=20)
    assert img.shape == (20, 60, 3) and img.dtype == np.uint8
    assert np.all(img[0, 0] == 255)  # white background by default
