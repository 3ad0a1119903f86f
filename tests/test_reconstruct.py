"""`lift3d reconstruct`: every output extension, multi-view, preview, bad images -> exit 2 and no file."""

import numpy as np
import pytest
import trimesh
from PIL import Image

from conftest import run_cli as run
from conftest import welded
from lift3d.io import extensions
from lift3d.io.voxels import load_voxels
from lift3d.reconstruct import Reconstructor


@pytest.fixture
def photo(tmp_path):
    """A red disc on a plain grey background (no alpha): exercises colour keying."""
    img = np.full((90, 120, 3), 200, np.uint8)
    yy, xx = np.mgrid[:90, :120]
    img[(yy - 45) ** 2 + (xx - 60) ** 2 < 30**2] = (180, 30, 30)
    path = tmp_path / "photo.jpg"
    Image.fromarray(img).save(path, quality=95)
    return path


@pytest.mark.parametrize("ext", extensions(writable=True))
def test_every_output_extension(tmp_path, capsys, photo, tiny_checkpoint, ext):
    out = tmp_path / f"model{ext}"
    code, _, err = run(capsys, "reconstruct", photo, "-o", out, "--checkpoint", tiny_checkpoint)
    assert code == 0, err
    assert out.is_file() and out.stat().st_size > 0
    if ext in (".binvox", ".npz"):
        grid = load_voxels(out)
        assert grid.occupancy.shape == (32, 32, 32) and grid.occupancy.mean() > 0.9  # the biased model fills it
    elif ext in (".glb", ".gltf", ".obj", ".ply", ".stl", ".off"):
        mesh = trimesh.load(out, force="mesh")
        # Textured meshes split vertices along UV seams; welded by position the surface is closed.
        assert welded(mesh).is_watertight and abs(mesh.extents.max() - 1.0) < 0.1
        textured = isinstance(mesh.visual, trimesh.visual.TextureVisuals)
        assert textured == (ext in (".glb", ".gltf", ".obj"))
        if ext == ".ply":
            assert mesh.visual.kind == "vertex" and len(np.unique(mesh.visual.vertex_colors, axis=0)) > 1


def test_views_are_fused_and_preview_written(tmp_path, capsys, photo, tiny_checkpoint):
    out, prev = tmp_path / "fused.obj", tmp_path / "turntable.png"
    code, stdout, err = run(capsys, "reconstruct", photo, photo, photo, "--views", "-o", out, "--checkpoint",
                            tiny_checkpoint, "--preview", prev)
    assert code == 0, err
    assert "3 view(s)" in stdout
    strip = np.asarray(Image.open(prev))
    assert strip.shape[1] == 6 * strip.shape[0] and (strip < 250).any()


def test_several_images_without_views_go_to_a_folder(tmp_path, capsys, photo, tiny_checkpoint):
    code, _, err = run(capsys, "reconstruct", photo, photo, "-o", tmp_path / "outdir", "--format", "stl",
                       "--checkpoint", tiny_checkpoint)
    assert code == 0, err
    assert (tmp_path / "outdir" / "photo.stl").is_file()


def test_reconstructor_api(photo, tiny_checkpoint):
    from lift3d.io.images import load_image

    rec = Reconstructor(tiny_checkpoint).reconstruct([load_image(photo)])
    assert rec.probabilities.shape == (32, 32, 32) and rec.mesh is not None
    assert set(rec.timings) == {"preprocess", "forward", "mesh"}


@pytest.mark.parametrize("case", ["truncated", "zero", "bytes", "huge", "missing", "extension"])
def test_bad_images_exit_2_without_output(tmp_path, capsys, tiny_checkpoint, case):
    img = tmp_path / "in.png"
    out = tmp_path / "out.glb"
    if case == "truncated":
        Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(img)
        img.write_bytes(img.read_bytes()[:80])
    elif case == "zero":
        img.write_bytes(b"")
    elif case == "bytes":
        img.write_bytes(b"definitely not a PNG" * 10)
    elif case == "huge":
        Image.new("1", (20000, 20000)).save(img)
    elif case == "extension":
        Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(img)
        out = tmp_path / "out.docx"
    code, _, err = run(capsys, "reconstruct", tmp_path / "nope.png" if case == "missing" else img, "-o", out,
                       "--checkpoint", tiny_checkpoint)
    assert code == 2 and err.startswith("lift3d: error:") and err.count("\n") == 1
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_missing_checkpoint(tmp_path, capsys, photo):
    code, _, err = run(capsys, "reconstruct", photo, "-o", tmp_path / "x.glb", "--checkpoint", tmp_path / "no.st")
    assert code == 2 and "checkpoint not found" in err
