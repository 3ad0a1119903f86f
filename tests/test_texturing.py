"""Texture from the input photo: camera fitting, unseen-surface fill, texturing modes, the CLI options."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from conftest import run_cli as _run
from lift3d.errors import InputError
from lift3d.geometry.cameras import orbit_camera


def _chair() -> trimesh.Trimesh:
    from lift3d.data.shapes import make_shape

    return make_shape("chair", 7)


def _coloured(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """A copy with vertex colours that vary smoothly over the surface (a colour per position)."""
    out = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    v = np.asarray(mesh.vertices)
    rgb = np.clip(0.5 + 0.9 * v, 0.0, 1.0)
    rgba = np.round(np.c_[rgb, np.ones(len(v))] * 255).astype(np.uint8)
    out.visual = trimesh.visual.ColorVisuals(out, vertex_colors=rgba)
    return out


def _photo(mesh: trimesh.Trimesh, cam) -> np.ndarray:
    """Unlit RGBA uint8 render of ``mesh`` (alpha = coverage) as a test photo."""
    from lift3d.render import render_mesh

    res = render_mesh(mesh, cam, lighting="unlit", ss=2)
    return res.rgba


@pytest.mark.parametrize("az, el", [(30.0, 20.0), (200.0, 35.0), (110.0, 5.0)])
def test_fit_camera_recovers_the_view(az, el):
    from lift3d.geometry.camera_fit import fit_camera
    from lift3d.render import render_mesh

    chair = _chair()
    cam = orbit_camera(az, el, 2.6, 160, 120, fov_deg=35.0, target=[0.05, -0.02, 0.0])
    mask = render_mesh(chair, cam, lighting="unlit").mask
    fit = fit_camera(chair, mask)
    assert fit.iou > 0.85  # not 1: the photo's lens (35 degrees) is not the one assumed (40)
    assert abs((fit.azimuth - az + 180) % 360 - 180) <= 10 and abs(fit.elevation - el) <= 8
    # The fitted camera puts the outline where the photo has it, in the photo's own pixels.
    again = render_mesh(chair, fit.camera, lighting="unlit").mask
    assert again.shape == mask.shape
    assert (again & mask).sum() / (again | mask).sum() > 0.8


def test_fit_camera_refuses_bad_input():
    from lift3d.geometry.camera_fit import fit_camera

    with pytest.raises(InputError, match="empty"):
        fit_camera(_chair(), np.zeros((40, 40), bool))
    with pytest.raises(InputError, match="2D"):
        fit_camera(_chair(), np.ones((4, 4, 3), bool))


def test_symmetry_planes():
    from lift3d.postprocess.texture_fill import symmetry_planes

    chair = _chair()  # mirror-symmetric left/right (x = 0) only
    planes = symmetry_planes(trimesh.sample.sample_surface(chair, 6000, seed=1)[0])
    assert len(planes) >= 1 and abs(planes[0][0][0]) > 0.99
    # A lopsided shape (a box with a bump on one corner) has none.
    lop = trimesh.util.concatenate([trimesh.creation.box((1.0, 0.6, 0.8)),
                                    trimesh.creation.box((0.3, 0.3, 0.3)).apply_translation([0.5, 0.3, 0.3])])
    assert symmetry_planes(trimesh.sample.sample_surface(lop, 6000, seed=1)[0]) == []


def test_fill_unseen_mirrors_then_interpolates():
    from lift3d.postprocess.texture_fill import fill_unseen

    sphere = trimesh.creation.icosphere(4)
    pts, nrm = np.asarray(sphere.vertices), np.asarray(sphere.vertex_normals)
    colours = np.zeros((len(pts), 3), np.float32)
    colours[:, 0] = 0.5 + 0.5 * pts[:, 1]  # red varies with height, the same on both sides of x = 0
    seen = pts[:, 0] > 0.1
    out, stats = fill_unseen(pts, nrm, np.where(seen[:, None], colours, 0), seen)
    unseen_far = pts[:, 0] < -0.2
    assert np.abs(out[unseen_far] - colours[unseen_far]).max() < 0.03  # the mirror image's colour
    assert stats["mirrored"] > 0.3 and stats["planes"] >= 1
    out2, stats2 = fill_unseen(pts, nrm, np.where(seen[:, None], colours, 0), seen, symmetry=False)
    assert stats2["mirrored"] == 0 and stats2["interpolated"] > 0.4
    assert np.all(out2 >= -1e-6) and np.all(out2 <= 1 + 1e-6)
    with pytest.raises(InputError, match="no camera sees"):
        fill_unseen(pts, nrm, colours, np.zeros(len(pts), bool))


def test_texture_from_one_photo_with_a_fitted_camera():
    from lift3d.reconstruct.texturing import texture_mesh
    from lift3d.render import render_mesh

    chair = _chair()
    cam = orbit_camera(40.0, 25.0, 2.6, 128, 128, fov_deg=40.0)
    photo = _photo(_coloured(chair), cam)
    assert len(np.unique(photo[photo[..., 3] == 255][:, :3], axis=0)) > 100  # a colourful photo
    tex = texture_mesh(chair, [photo], None, "image", texture_size=256)
    assert isinstance(tex.mesh.visual, trimesh.visual.TextureVisuals) and len(tex.fits) == 1
    assert 0.2 < tex.stats["seen"] < 0.9 and tex.stats["seen"] + tex.stats["mirrored"] + \
        tex.stats["interpolated"] == pytest.approx(1.0, abs=1e-6)
    # Rendered from the fitted camera, the texture gives the photo back.
    back = render_mesh(tex.mesh, tex.fits[0].camera, lighting="unlit")
    both = back.mask & (photo[..., 3] == 255)
    err = np.abs(back.rgb[both] - photo[..., :3][both] / 255.0).mean()
    assert both.sum() > 0.8 * (photo[..., 3] == 255).sum() and err < 0.05
    # Vertex mode and flat mode.
    vtx = texture_mesh(chair, [photo], None, "vertex")
    assert vtx.mesh.visual.kind == "vertex" and len(np.unique(vtx.mesh.visual.vertex_colors, axis=0)) > 20
    flat = texture_mesh(chair, [photo], None, "flat")
    assert len(np.unique(flat.mesh.visual.vertex_colors, axis=0)) == 1 and not flat.fits


def test_texture_modes_per_format():
    from lift3d.reconstruct.texturing import mode_for

    assert mode_for("a.glb", "auto") == "image" and mode_for("a.obj", "auto") == "image"
    assert mode_for("a.ply", "auto") == "vertex" and mode_for("a.stl", "auto") == "none"
    assert mode_for("a.ply", "flat") == "flat"
    with pytest.raises(InputError, match="cannot be stored"):
        mode_for("a.stl", "image")
    with pytest.raises(InputError, match="cannot be stored"):
        mode_for("a.ply", "image")
    with pytest.raises(InputError, match="unknown --texture"):
        mode_for("a.glb", "uv")


@pytest.fixture
def chair_photo(tmp_path):
    from PIL import Image

    path = tmp_path / "chair.png"
    Image.fromarray(_photo(_coloured(_chair()), orbit_camera(40.0, 25.0, 2.6, 96, 96))).save(path)
    return path


def test_cli_textured_obj_and_post(tmp_path, capsys, chair_photo, tiny_checkpoint):
    out = tmp_path / "model.obj"
    code, stdout, err = _run(capsys, "reconstruct", chair_photo, "-o", out, "--checkpoint", tiny_checkpoint,
                             "--texture-size", "64", "--post", "decimate:300")
    assert code == 0, err
    assert "texture image" in stdout and "camera fit" in stdout
    names = sorted(p.name for p in out.parent.iterdir() if p.suffix != ".glb")
    assert names == ["chair.png", "model.mtl", "model.obj", "model_material_0.png"]  # side files named after the output
    mesh = trimesh.load(out, force="mesh")
    assert isinstance(mesh.visual, trimesh.visual.TextureVisuals)
    assert abs(len(mesh.faces) - 300) <= 15
    # GLB: a PBR material whose base colour is the texture as is (factor 1: no grey tint), not metallic.
    glb = tmp_path / "model.glb"
    assert _run(capsys, "reconstruct", chair_photo, "-o", glb, "--checkpoint", tiny_checkpoint,
                "--texture-size", "64")[0] == 0
    mat = trimesh.load(glb, force="mesh").visual.material
    assert list(mat.baseColorFactor) == [255, 255, 255, 255] and mat.metallicFactor == 0
    assert mat.baseColorTexture.size == (64, 64)


@pytest.mark.parametrize("args, message", [
    (["-o", "x.stl", "--texture", "image"], "cannot be stored"),
    (["-o", "x.glb", "--post", "smoth"], "unknown --post step"),
    (["-o", "x.glb", "--texture-size", "8"], "--texture-size"),
])
def test_cli_texture_and_post_errors(tmp_path, capsys, chair_photo, tiny_checkpoint, args, message):
    args = [tmp_path / a if a.startswith("x.") else a for a in args]
    code, _, err = _run(capsys, "reconstruct", chair_photo, "--checkpoint", tiny_checkpoint, *args)
    assert code == 2 and message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == [chair_photo]
