"""Appearance randomisation: textures, materials, lights, soft shadows, camera ranges, shift split."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from lift3d.data.appearance import (
    SHIFT_TEXTURES,
    TRAIN_TEXTURES,
    Light,
    Lighting,
    Material,
    sample_appearance,
    texture_color,
)
from lift3d.data.generate import generate_dataset
from lift3d.data.render import random_cameras, render_view_styled, render_views
from lift3d.errors import InputError
from lift3d.geometry.cameras import orbit_camera, project
from lift3d.geometry.voxels import raycasting_scene


def _mat(texture: str) -> Material:
    return Material(texture, np.array([[0.8, 0.2, 0.1], [0.1, 0.3, 0.9]], np.float32), 4.0,
                    np.array([0.0, 1.0, 0.0]), np.zeros(3))


@pytest.mark.parametrize("texture", TRAIN_TEXTURES + SHIFT_TEXTURES)
def test_textures_are_in_range_and_patterned(texture: str) -> None:
    p = np.random.default_rng(0).uniform(-0.5, 0.5, (4000, 3)).astype(np.float32)
    col = texture_color(_mat(texture), p, seed=3)
    assert col.shape == (4000, 3) and col.dtype == np.float32
    assert col.min() >= 0.0 and col.max() <= 1.0
    spread = col.std(axis=0).max()
    assert spread < 1e-6 if texture == "flat" else spread > 0.03
    assert np.array_equal(col, texture_color(_mat(texture), p, seed=3))  # deterministic


def test_shift_textures_never_drawn_for_training() -> None:
    rng = np.random.default_rng(0)
    seen = {m.texture for _ in range(200) for m in sample_appearance(rng, 4, "random").materials}
    assert seen == set(TRAIN_TEXTURES)
    shift = {m.texture for _ in range(50) for m in sample_appearance(rng, 4, "shift").materials}
    assert shift == set(SHIFT_TEXTURES) and not shift & seen
    with pytest.raises(InputError, match="unknown appearance"):
        sample_appearance(rng, 2, "glitter")


@pytest.mark.parametrize("style", ["random", "shift"])
def test_styled_render_is_deterministic_per_seed(style: str) -> None:
    mesh = trimesh.creation.box((0.6, 0.4, 0.5))
    cams = random_cameras(np.random.default_rng(1), 2, 48, fov_deg=(15.0, 60.0), roll_deg=5.0, offset=0.05)
    a = render_views(mesh, cams, 5, appearance=style)
    b = render_views(mesh, cams, 5, appearance=style)
    c = render_views(mesh, cams, 6, appearance=style)
    for va, vb in zip(a, b, strict=True):
        assert np.array_equal(va.rgba, vb.rgba)
    assert not np.array_equal(a[0].rgba, c[0].rgba)
    plain = render_views(mesh, cams, 5)
    assert np.array_equal(a[0].mask, plain[0].mask)  # the look changes, the geometry buffers do not
    assert np.array_equal(a[0].depth, plain[0].depth)


def test_ray_cast_shadows_darken_what_the_light_cannot_see() -> None:
    slab = trimesh.creation.box((1.0, 0.05, 1.0))
    block = trimesh.creation.box((0.3, 0.3, 0.3))
    block.apply_translation((0, 0.3, 0))
    mesh = trimesh.util.concatenate([slab, block])
    parts = np.zeros(len(mesh.faces), np.int64)
    look = sample_appearance(np.random.default_rng(0), 1, "random")
    look.materials = [_mat("flat")]
    cam = orbit_camera(30, 50, 3.0, 64, 64)
    out = {}
    for shadows in (False, True):
        lit = Lighting([Light(np.array([0.0, 1.0, 0.0]), np.ones(3))], np.zeros(3), np.zeros(3), shadows)
        out[shadows] = render_view_styled(mesh, cam, look, lit, parts, np.random.default_rng(0), supersample=1,
                                          scene=raycasting_scene(mesh))
    top = out[False].normals[..., 1] > 0.9  # upward faces: all lit without shadows
    dark_free = (out[False].rgba[..., :3].max(-1) < 10)[top].mean()
    dark_shadow = (out[True].rgba[..., :3].max(-1) < 10)[top].mean()
    assert dark_free == 0.0 and dark_shadow > 0.02  # the block (0.09 of the slab) shades the slab


def test_camera_ranges_cover_lenses_roll_and_offsets_and_keep_the_object_in_frame() -> None:
    rng = np.random.default_rng(0)
    cams = random_cameras(rng, 300, 64, elevation=(-10.0, 50.0), fov_deg=(15.0, 60.0), roll_deg=5.0,
                          offset=0.06, zoom=(1.05, 1.3))
    fovs = [np.degrees(2 * np.arctan(32 / c.K[0, 0])) for c, *_ in cams]
    assert min(fovs) < 18 and max(fovs) > 55
    corners = np.array([[x, y, z] for x in (-0.4, 0.4) for y in (-0.4, 0.4) for z in (-0.4, 0.4)])
    centres, rolls = [], []
    for cam, *_ in cams:
        uv, z = project(corners, cam)
        assert (z > 0).all() and uv.min() >= 0 and uv.max() <= 64
        centres.append(project(np.zeros((1, 3)), cam)[0][0])
        up = project(np.array([[0.0, 0.0, 0.0], [0.0, 0.3, 0.0]]), cam)[0]
        rolls.append(np.degrees(np.arctan2(up[1, 0] - up[0, 0], up[0, 1] - up[1, 1])))
    assert np.abs(np.asarray(centres) - 32).max() > 1.0  # off-centre framing happens
    assert np.ptp(rolls) > 5  # and so does roll (plus the perspective tilt of the up axis)


def test_only_split_writes_the_same_test_shapes_in_another_appearance(tmp_path) -> None:
    kw = dict(shapes_per_category=5, views=1, image_size=16, workers=1, points=64, occ_samples=64, quiet=True)
    full = generate_dataset(tmp_path / "full", ["chair", "mug"], appearance="plain", **kw)
    shift = generate_dataset(tmp_path / "shift", ["chair", "mug"], appearance="shift", only_split="test", **kw)
    assert shift["splits"]["test"] == full["splits"]["test"]
    assert {s["id"] for s in shift["shapes"]} == set(full["splits"]["test"])
    assert not shift["splits"]["train"] and shift["appearance"] == "shift"
    with pytest.raises(InputError, match="appearance 'shift', not 'random'"):
        generate_dataset(tmp_path / "shift", ["chair", "mug"], appearance="random", only_split="test", **kw)
    one = generate_dataset(tmp_path / "one", ["chair"], appearance="plain", only_split="test", **kw)
    assert one["splits"]["test"] == [i for i in full["splits"]["test"] if i.startswith("chair")]
