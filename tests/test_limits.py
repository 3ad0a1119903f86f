"""The limits policy (lift3d.limits) and the readers that apply it: big images are downscaled while decoded, bombs
and lying headers are refused with one line naming the file, absurd geometry gives an error and no numpy warning,
and checkpoints are checked before anything is allocated (issue 18)."""

from __future__ import annotations

import copy
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image, ImageDraw, ImageFile

from lift3d import limits
from lift3d.errors import FormatError, InputError, ModelError
from lift3d.io.images import image_size, load_image, load_mask
from test_output_safety import fails_cleanly

pytestmark = pytest.mark.filterwarnings("error")  # no numpy (or other) warning on any of these paths

# --- the policy itself --------------------------------------------------------------------------------------------


def test_every_limit_is_named_documented_and_overridable(monkeypatch):
    doc = (limits.__doc__ or "") + (Path(__file__).resolve().parent.parent / "docs" / "limits.md").read_text()
    for lim in limits.ALL:
        assert lim.env.startswith("LIFT3D_MAX_") and lim.env in doc and len(lim.doc) > 40
        assert lim.value == lim.default
    monkeypatch.setenv("LIFT3D_MAX_POINTS", "1e3")
    assert limits.POINTS.value == 1000
    with pytest.raises(InputError, match="over the limit of 1,000 .*LIFT3D_MAX_POINTS"):
        limits.POINTS.check(1001, "x.xyz")
    monkeypatch.setenv("LIFT3D_MAX_POINTS", "lots")
    with pytest.raises(InputError, match="LIFT3D_MAX_POINTS='lots' is not a positive number"):
        limits.POINTS.check(1, "x.xyz")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), -1, 2])
def test_check_number_refuses_nan_inf_and_out_of_range(value):
    with pytest.raises(InputError, match=r"--level must be in \(0, 1\)"):
        limits.check_number(value, "--level", 0, 1, lo_open=True, hi_open=True)


def test_check_coordinates():
    limits.check_coordinates(np.array([[0.0, 1e8, -1e9]]), "ok")
    for bad, match in ((np.array([[1e308, 0, 0]]), "up to 1e\\+308"), (np.array([[np.nan, 0, 0]]), "NaN")):
        with pytest.raises(FormatError, match=match):
            limits.check_coordinates(bad, "m.obj", FormatError)


# --- images: downscaled at decode, bombs refused --------------------------------------------------------------------


def test_big_jpeg_is_downscaled_while_decoded(tmp_path, monkeypatch):
    """A 48-megapixel JPEG: the decoder runs at a reduced DCT scale (never 8000 x 6000), the result has the working
    side, and the object is where it was."""
    path = tmp_path / "big.jpg"
    img = Image.new("RGB", (8000, 6000), (200, 200, 200))
    ImageDraw.Draw(img).ellipse((2000, 1000, 6000, 5000), fill=(180, 30, 30))
    img.save(path, quality=85)
    del img
    decoded = []
    original = ImageFile.ImageFile.load

    def spy(self):
        decoded.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    t = time.perf_counter()
    rgba = load_image(path)
    seconds = time.perf_counter() - t
    assert rgba.shape == (768, 1024, 4)
    assert decoded and max(w * h for w, h in decoded) <= 8000 * 6000 // 16, decoded  # 1/4 scale or less
    assert seconds < 5.0
    assert np.abs(rgba[384, 512, :3].astype(int) - (180, 30, 30)).max() <= 12 and rgba[5, 5, 0] > 190
    assert image_size(path) == (8000, 6000)


def test_big_png_and_its_mask_share_the_working_size(tmp_path, monkeypatch):
    monkeypatch.setenv("LIFT3D_MAX_IMAGE_SIDE", "256")
    Image.new("RGBA", (1000, 600), (255, 0, 0, 255)).save(tmp_path / "x.png")
    mask = np.zeros((600, 1000), np.uint8)
    mask[100:500, 200:800] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    rgba = load_image(tmp_path / "x.png")
    assert rgba.shape == (154, 256, 4) and (rgba[..., 0] == 255).all()
    m = load_mask(tmp_path / "m.png", rgba.shape[:2])
    assert m.shape == (154, 256) and abs(m.mean() - 0.4) < 0.02
    Image.fromarray(mask[:, :900]).save(tmp_path / "m2.png")
    with pytest.raises(InputError, match="mask .*m2.png is 900x600, image is 256x154 .*working size"):
        load_mask(tmp_path / "m2.png", rgba.shape[:2])


def test_decompression_bomb_refused_before_decoding(tmp_path, capsys, monkeypatch):
    p = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000)).save(p)  # a few kB, 400 megapixels
    with pytest.raises(InputError, match="bomb.png is too large .*LIFT3D_MAX_IMAGE_PIXELS"):
        load_image(p)
    monkeypatch.setenv("LIFT3D_MAX_IMAGE_PIXELS", "1000000")
    Image.new("L", (1200, 1000)).save(tmp_path / "mid.png")
    fails_cleanly(capsys, tmp_path, "info", tmp_path / "mid.png",
                  match=r"mid.png \(1200x1000\) has 1,200,000 pixels, over the limit of 1,000,000")


# --- mesh, point and voxel files ------------------------------------------------------------------------------------

def _ply(n_vertex: int, n_face: int, body: bytes, fmt: str = "ascii") -> bytes:
    head = (f"ply\nformat {fmt} 1.0\nelement vertex {n_vertex}\nproperty float x\nproperty float y\n"
            f"property float z\nelement face {n_face}\nproperty list uchar int vertex_indices\nend_header\n")
    return head.encode() + body


TRI = "0 0 0\n1 0 0\n0 1 0\n"
BAD_FILES = {
    "lying.off": ("OFF\n4 10 0\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 1 2\n3 0 1 3\n",
                  "lying.off: the OFF header promises 4 vertices and 10 faces, but the file has only 6 data lines"),
    "lying.ply": (_ply(3, 5, (TRI + "3 0 1 2\n").encode()), "lying.ply: the PLY header promises 3 vertices, 5 faces"),
    "lying_bin.ply": (_ply(3, 2, struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0) + b"\x03" + struct.pack("<3i", 0, 1, 2),
                           "binary_little_endian"), "lying_bin.ply: the PLY header promises .* needs at least 62"),
    "huge.ply": (_ply(10**9, 1, (TRI + "3 0 1 2\n").encode()), "huge.ply has 1,000,000,000 vertices, over the limit"),
    "short.stl": (b"\0" * 80 + struct.pack("<I", 1000) + b"\0" * 100, "short.stl: the STL header promises 1,000 tri"),
    "degenerate.obj": ("v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\nf 1 3 2\n", "degenerate.obj has no surface: all 2 faces"),
    "point.off": ("OFF\n3 1 0\n1 1 1\n1 1 1\n1 1 1\n3 0 1 2\n", "point.off has no surface"),
    "absurd.obj": ("v 0 0 0\nv 1e308 0 0\nv 0 1e308 0\nv 0 0 1e308\nf 1 2 3\nf 1 2 4\nf 1 3 4\nf 2 3 4\n",
                   "absurd.obj has coordinates up to 1e\\+308, over the limit of 1e\\+09"),
    "inf.obj": ("v 0 0 0\nv inf 0 0\nv 0 1 0\nf 1 2 3\n", "inf.obj has NaN or infinite coordinates"),
    "absurd.xyz": ("0 0 0\n1e308 1e308 1e308\n-1e308 5 5\n1 2 3\n", "absurd.xyz has coordinates up to 1e\\+308"),
    "empty.xyz": ("", "empty.xyz contains no points"),
    "huge.pcd": ("VERSION .7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH 99999999999\nHEIGHT 1\n"
                 "POINTS 99999999999\nDATA ascii\n0 0 0\n", "huge.pcd has 99,999,999,999 points, over the limit"),
    "huge.binvox": (b"#binvox 1\ndim 100000 100000 100000\ntranslate 0 0 0\nscale 1\ndata\n\x00\xff",
                    r"huge.binvox \(a 100000x100000x100000 grid\) has 100,000 cells per side, over the limit of 512"),
    "nan.binvox": (b"#binvox 1\ndim 2 2 2\ntranslate 0 nan 0\nscale 1\ndata\n\x00\x08", "nan.binvox has NaN"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
@pytest.mark.parametrize("command", ["info", "convert"])
def test_bad_geometry_files(tmp_path, capsys, name, command):
    content, match = BAD_FILES[name]
    src = tmp_path / name
    src.write_bytes(content if isinstance(content, bytes) else content.encode())
    args = (src,) if command == "info" else (src, tmp_path / "out.glb")
    fails_cleanly(capsys, tmp_path, command, *args, match=match)


def test_huge_declared_npz_grid_is_refused_unread(tmp_path, capsys):
    import io
    import zipfile

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|b1", "fortran_order": False, "shape": (10**5,) * 3})
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as z:
        z.writestr("voxels.npy", buf.getvalue())  # the header alone: reading the data would need 10^15 bytes
    fails_cleanly(capsys, tmp_path, "convert", tmp_path / "huge.npz", tmp_path / "o.glb", match="over the limit of 512")


@pytest.mark.parametrize("shape", ["line", "plane"])
def test_points_without_volume_give_no_surface(tmp_path, capsys, shape):
    pts = np.random.default_rng(0).uniform(-1, 1, (200, 3))
    pts[:, 2] = 0
    if shape == "line":
        pts[:, 1] = pts[:, 0] * 2
    np.savetxt(tmp_path / "p.xyz", pts)
    for out in ("o.glb", "o.binvox"):
        fails_cleanly(capsys, tmp_path, "convert", tmp_path / "p.xyz", tmp_path / out,
                      match=f"the 200 points all lie on one {shape}")


def test_mesh_limits_are_overridable(tmp_path, capsys, monkeypatch):
    trimesh.creation.icosphere(subdivisions=2).export(tmp_path / "s.off")  # 320 faces
    monkeypatch.setenv("LIFT3D_MAX_MESH_FACES", "100")
    fails_cleanly(capsys, tmp_path, "info", tmp_path / "s.off", match="s.off has 320 faces, over the limit of 100")
    monkeypatch.setenv("LIFT3D_MAX_MESH_FACES", "1000")
    with pytest.raises(SystemExit) as exc:
        from lift3d.cli import main

        main(["info", str(tmp_path / "s.off")])
    assert (exc.value.code or 0) == 0 and "faces: 320" in capsys.readouterr().out


# --- checkpoints ------------------------------------------------------------------------------------------------


@pytest.fixture
def tiny_model(tiny_config):
    from lift3d.models.registry import build_model

    return build_model(tiny_config["model"])


def test_enormous_layer_refused_before_allocation(tmp_path, capsys, tiny_config, tiny_model):
    from lift3d.models.checkpoint import load_model, save_checkpoint

    cfg = copy.deepcopy(tiny_config)
    cfg["model"]["latent"] = 10**9  # a 10^9 x 10^3 linear layer: terabytes if it were built
    save_checkpoint(tmp_path / "big.safetensors", tiny_model, cfg)
    t = time.perf_counter()
    with pytest.raises(ModelError, match=r"big.safetensors has [\d,]+ parameters, over the limit of 100,000,000"):
        load_model(tmp_path / "big.safetensors")
    assert time.perf_counter() - t < 5.0
    photo = tmp_path / "p.png"
    Image.new("RGBA", (64, 64)).save(photo)
    fails_cleanly(capsys, tmp_path, "reconstruct", photo, "-o", tmp_path / "o.glb", "--checkpoint",
                  tmp_path / "big.safetensors", match="LIFT3D_MAX_MODEL_PARAMETERS")


def test_wrong_tensors_give_one_short_line(tmp_path, capsys, tiny_config, tiny_model):
    from lift3d.models.checkpoint import save_checkpoint, save_tensors

    renamed = {f"x.{k}": v for k, v in tiny_model.state_dict().items()}
    save_tensors(tmp_path / "renamed.safetensors", renamed, {"config": tiny_config, "meta": {}})
    cfg = copy.deepcopy(tiny_config)
    cfg["model"]["latent"] = 32
    save_checkpoint(tmp_path / "shape.safetensors", tiny_model, cfg)
    photo = tmp_path / "p.png"
    Image.new("RGBA", (64, 64)).save(photo)
    n = len(renamed)
    for ckpt, match in (("renamed", f"{n} missing \\(decoder.*, \\.\\.\\.\\); {n} unexpected \\(x\\.decoder"),
                        ("shape", r"3 of another shape \(decoder.lift.1.bias is 64 in the file, 32 in the model")):
        line = fails_cleanly(capsys, tmp_path, "reconstruct", photo, "-o", tmp_path / "o.glb", "--checkpoint",
                             tmp_path / f"{ckpt}.safetensors", match=match)
        assert len(line) < 400
