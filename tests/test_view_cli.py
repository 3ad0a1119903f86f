"""`lift3d render` (headless turntables) and `lift3d view` (refused without a display; the window is not tested)."""

import sys

import numpy as np
import open3d as o3d
import pytest
import trimesh
from PIL import Image

from conftest import run_cli as run
from lift3d.io import write_any
from lift3d.io.voxels import VoxelGrid


@pytest.fixture
def model(tmp_path):
    """A textured GLB (asymmetric, so no two turntable frames are alike)."""
    box = trimesh.creation.box(extents=(0.8, 0.4, 0.3)).apply_translation((0.2, 0, 0))
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (8, 8, 3)).astype(np.uint8))
    box.visual = trimesh.visual.TextureVisuals(uv=rng.uniform(size=(len(box.vertices), 2)), image=image)
    return write_any(box, tmp_path / "model.glb")


def test_render_gif_png_and_mp4(tmp_path, capsys, model):
    code, out, err = run(capsys, "render", model, "--turntable", 5, "-o", tmp_path / "spin.gif", "--size", 24,
                         "--fps", 5, "-q")
    assert code == 0, err
    assert out == "" and Image.open(tmp_path / "spin.gif").n_frames == 5
    code, out, err = run(capsys, "render", model, "--turntable", 12, "-o", tmp_path / "sheet.png", "--size", 16,
                         "--lighting", "unlit", "--elevation", -30)
    assert code == 0, err
    assert "wrote" in out and Image.open(tmp_path / "sheet.png").size == (4 * 16, 3 * 16)
    pytest.importorskip("imageio_ffmpeg")
    code, _, err = run(capsys, "render", model, "--turntable", 3, "-o", tmp_path / "spin.mp4", "--size", 16, "-q")
    assert code == 0, err
    assert (tmp_path / "spin.mp4").stat().st_size > 0


def test_render_points_and_voxels(tmp_path, capsys):
    pts = np.random.default_rng(1).normal(size=(300, 3)).astype(np.float32)
    write_any((pts, None, np.tile([1.0, 0.0, 0.0], (300, 1))), tmp_path / "cloud.ply")
    occ = np.zeros((6, 6, 6), bool)
    occ[1:5, 1:3, 2:4] = True
    write_any(VoxelGrid(occ), tmp_path / "grid.binvox")
    for src in ("cloud.ply", "grid.binvox"):
        code, _, err = run(capsys, "render", tmp_path / src, "--turntable", 2, "-o", tmp_path / f"{src}.png",
                           "--size", 20, "-q")
        assert code == 0, err
        sheet = np.asarray(Image.open(tmp_path / f"{src}.png"))
        assert sheet.shape == (20, 40, 3) and (sheet < 250).any()
    red = np.asarray(Image.open(tmp_path / "cloud.ply.png")).astype(int)
    drawn = (red != 255).any(axis=-1)
    assert (red[drawn][:, 0] > red[drawn][:, 2]).mean() > 0.9


@pytest.mark.parametrize("args, message", [
    (("--turntable", 0), "--turntable must be in [1, 360]"),
    (("--turntable", 361), "--turntable must be in [1, 360]"),
    (("--size", 8), "--size must be in [16, 2,048]"),
    (("--size", 4096), "--size must be in [16, 2,048]"),
    (("--elevation", 100), "--elevation"),
    (("--fps", 0), "--fps"),
    (("--lighting", "glossy"), "unknown lighting"),
    (("-o", "{tmp}/spin.jpg"), "use one of .png, .gif, .mp4"),
    (("-o", "{tmp}/missing/spin.gif"), "does not exist"),
    (("-o", "{model}"), "unsupported turntable output"),
    (("--turntable", 360, "--size", 2048, "-o", "{tmp}/big.png"), "a .png sheet of 360 views of 2048 px"),
])
def test_render_bad_arguments(tmp_path, capsys, model, args, message):
    before = sorted(tmp_path.iterdir())
    opts = {"-o": tmp_path / "spin.gif"} | dict(zip(args[::2], args[1::2], strict=True))
    argv = [x for k, v in opts.items() for x in (k, str(v).format(tmp=tmp_path, model=model))]
    code, out, err = run(capsys, "render", model, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err
    assert sorted(tmp_path.iterdir()) == before  # nothing written, no temporary file left


def test_render_bad_inputs(tmp_path, capsys):
    image = tmp_path / "photo.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(image)
    broken = tmp_path / "broken.glb"
    broken.write_bytes(b"not a mesh")
    for src, message in ((tmp_path / "none.obj", "file not found"), (image, "is an image"),
                         (broken, "broken.glb")):
        code, out, err = run(capsys, "render", src, "-o", tmp_path / "spin.gif", "--size", 16, "--turntable", 2)
        assert code == 2 and out == "" and err.count("\n") == 1 and message in err
    code, _, err = run(capsys, "render", image, "-o", image, "--size", 16)
    assert code == 2 and "also an input" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.glb", "photo.png"]


def test_render_mp4_without_the_encoder(tmp_path, capsys, model, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    code, out, err = run(capsys, "render", model, "-o", tmp_path / "spin.mp4", "--size", 16)
    assert code == 2 and "imageio-ffmpeg" in err and err.count("\n") == 1
    assert not (tmp_path / "spin.mp4").exists()


def test_view_without_a_display_points_to_render(capsys, model, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    code, out, err = run(capsys, "view", model)
    assert code == 2 and out == ""
    assert err.strip() == f"lift3d: error: no display: use `lift3d render {model} --turntable 24 -o spin.gif`"


class FakeVisualizer:
    """Stands in for o3d.visualization.Visualizer: records what `lift3d view` shows."""

    shown: list = []
    window_opens = True

    def create_window(self, **kwargs):
        return self.window_opens

    def add_geometry(self, geom):
        self.shown.append(geom)

    def get_render_option(self):
        return type("Options", (), {})()

    def run(self):
        pass

    def destroy_window(self):
        pass


def test_view_with_a_display_opens_an_open3d_window(capsys, model, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(o3d.visualization, "Visualizer", FakeVisualizer)
    FakeVisualizer.shown = []
    code, _, err = run(capsys, "view", model)
    assert code == 0, err
    assert len(FakeVisualizer.shown) == 1 and isinstance(FakeVisualizer.shown[0], o3d.geometry.TriangleMesh)
    assert FakeVisualizer.shown[0].has_textures()
    monkeypatch.setattr(FakeVisualizer, "window_opens", False)
    code, _, err = run(capsys, "view", model)
    assert code == 2 and "could not open a window" in err
    code, _, err = run(capsys, "view", model.with_name("none.glb"))
    assert code == 2 and "file not found" in err
