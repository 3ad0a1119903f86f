"""The one extension table (lift3d.io.FORMATS) and its dispatcher: kinds, validation, streams, images."""

import inspect
import io

import numpy as np
import pytest
import trimesh
from PIL import Image

from lift3d.errors import InputError
from lift3d.io import FORMATS, FileFormat, check_output_path, extensions, kind_of, read_any, write_any
from lift3d.io.voxels import VoxelGrid

WRITABLE = (".glb", ".gltf", ".obj", ".stl", ".off", ".ply", ".usdz", ".usda", ".usdc",
            ".pcd", ".xyz", ".binvox", ".npz")


def test_table_kinds_and_flags():
    assert extensions(writable=True) == WRITABLE  # grouped by kind: the same order whatever was imported first
    assert set(extensions("mesh", readable=True)) == {".glb", ".gltf", ".obj", ".stl", ".off", ".ply", ".usdz", ".usda",
                                                      ".usdc"}
    assert set(extensions("points", writable=True)) == {".ply", ".pcd", ".xyz"}
    assert set(extensions("voxels")) == {".binvox", ".npz"}
    images = extensions("image")
    assert {".png", ".jpg", ".jpeg"} <= set(images) and not set(images) & set(extensions(writable=True))
    assert FORMATS.get(".ply").kinds == ("mesh", "points")
    for ext in FORMATS:
        assert ext.startswith(".") and ext == ext.lower() and FORMATS.get(ext).readable


def test_table_refuses_duplicates_and_unknown_kinds():
    with pytest.raises(ValueError, match="twice"):
        FORMATS.register(".glb", FileFormat("another glb", readers={"mesh": print}))
    with pytest.raises(ValueError, match="unknown kind"):
        FileFormat("bad", readers={"hologram": print})
    with pytest.raises(ValueError, match="neither a reader nor a writer"):
        FileFormat("useless")


def test_check_output_path_lists_the_table(tmp_path):
    assert check_output_path(tmp_path / "a.GLB") == tmp_path / "a.GLB"
    with pytest.raises(InputError, match="unsupported output extension '.png'") as err:
        check_output_path(tmp_path / "a.png")
    assert str(err.value).endswith(", ".join(extensions(writable=True)))
    check_output_path("a.ply", kinds="points")
    with pytest.raises(InputError, match=r"use one of \.binvox, \.npz$"):
        check_output_path("a.glb", kinds=("voxels",))
    with pytest.raises(InputError, match="'\\(none\\)'"):
        check_output_path(tmp_path / "noext")


def test_kind_of(tmp_path):
    assert [kind_of(f"x{e}") for e in (".OBJ", ".xyz", ".npz", ".jpeg")] == ["mesh", "points", "voxels", "image"]
    assert kind_of("x.ply") == kind_of("x.ply", for_output=True) == "mesh"  # not a file: the main kind
    with pytest.raises(InputError, match="unsupported output"):
        kind_of("x.png", for_output=True)
    with pytest.raises(InputError, match="unknown file format '.docx'"):
        kind_of("x.docx")


def test_read_any_image(tmp_path):
    Image.new("RGBA", (5, 3), (10, 20, 30, 0)).save(tmp_path / "a.png")
    kind, rgba = read_any(tmp_path / "a.png")
    assert kind == "image" and rgba.shape == (3, 5, 4) and rgba.dtype == np.uint8


def _samples(box_mesh, rng) -> dict:
    pts = rng.random((40, 3))
    return {".glb": box_mesh, ".gltf": box_mesh, ".obj": box_mesh, ".stl": box_mesh, ".off": box_mesh,
            ".usdz": box_mesh, ".usda": box_mesh, ".usdc": box_mesh,
            ".ply": (pts, rng.normal(size=(40, 3)), None), ".pcd": (pts, None, rng.random((40, 3))), ".xyz": pts,
            ".binvox": VoxelGrid(rng.random((6, 6, 6)) < 0.5, [1, 2, 3], 2.0), ".npz": rng.random((4, 4, 4))}


def test_every_writable_format_streams_the_same_bytes(tmp_path, box_mesh, rng):
    samples = _samples(box_mesh, rng)
    assert set(samples) == set(extensions(writable=True))
    for ext, obj in samples.items():
        path = write_any(obj, tmp_path / f"f{ext}")
        buf = io.BytesIO()
        assert write_any(obj, buf, fmt=ext.upper()[1:]) is None
        assert buf.getvalue() == path.read_bytes(), ext
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"f{e}" for e in samples)  # no temporaries


def test_stream_needs_a_format_and_refuses_a_textured_obj(box_mesh):
    with pytest.raises(InputError, match="needs its format"):
        write_any(box_mesh, io.BytesIO())
    tex = trimesh.creation.box()
    tex.visual = trimesh.visual.TextureVisuals(uv=np.zeros((8, 2)), image=Image.new("RGB", (2, 2)))
    buf = io.BytesIO()
    with pytest.raises(InputError, match="side files"):
        write_any(tex, buf, fmt="obj")
    assert buf.getvalue() == b""
    with pytest.raises(InputError, match="unsupported output"):
        write_any(box_mesh, io.BytesIO(), fmt="png")


def test_write_any_refuses_other_data(tmp_path):
    with pytest.raises(InputError, match="cannot write a dict"):
        write_any({}, tmp_path / "a.glb")
    assert not list(tmp_path.iterdir())


def test_command_help_names_every_extension():
    """The CLI help is literal (building it from the table would import numpy at every start): keep it in step."""
    from lift3d.commands.formats import convert
    from lift3d.commands.reconstruct import reconstruct

    def helps(fn, name):
        return inspect.signature(fn).parameters[name].default.help

    for ext in extensions(writable=True):
        assert ext in helps(reconstruct, "output")
    for kind in ("mesh", "points", "voxels"):
        for ext in extensions(kind, readable=True):
            assert ext in helps(convert, "src")
