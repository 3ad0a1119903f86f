"""The command line: conversions, info, and clean failures (exit 2, one line, no output file)."""

import numpy as np
import pytest
import trimesh

from conftest import run_cli as run
from lift3d import __version__


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and __version__ in out


def test_convert_mesh_to_binvox_to_glb(tmp_path, capsys, sphere):
    sphere.export(tmp_path / "s.obj")
    code, _, err = run(capsys, "convert", str(tmp_path / "s.obj"), str(tmp_path / "s.binvox"), "--res", "32")
    assert code == 0, err
    code, out, _ = run(capsys, "info", str(tmp_path / "s.binvox"))
    assert code == 0 and "dims: 32x32x32" in out
    occupied = int(out.split("occupied: ")[1].split()[0])
    assert abs(occupied / 32**3 - 4 / 3 * np.pi * 0.5**3) < 0.05  # the sphere fills the unit cube: r = 0.5
    code, _, _ = run(capsys, "convert", str(tmp_path / "s.binvox"), str(tmp_path / "s.glb"))
    assert code == 0
    back = trimesh.load(tmp_path / "s.glb", force="mesh")
    assert back.is_watertight and back.volume == pytest.approx(4 / 3 * np.pi * 0.5**3, rel=0.06)


def test_convert_mesh_to_points_and_info(tmp_path, capsys, box_mesh):
    box_mesh.export(tmp_path / "b.stl")
    assert run(capsys, "convert", str(tmp_path / "b.stl"), str(tmp_path / "b.pcd"), "--points", "1000")[0] == 0
    code, out, _ = run(capsys, "info", str(tmp_path / "b.pcd"))
    assert code == 0 and "points: 1000" in out
    code, out, _ = run(capsys, "info", str(tmp_path / "b.stl"))
    assert "watertight: True" in out and "faces: 12" in out


@pytest.mark.parametrize("case", ["missing", "extension", "truncated_binvox", "junk", "empty", "nan"])
def test_bad_input_exit_2_no_output(tmp_path, capsys, case):
    src = tmp_path / {"missing": "nope.obj", "extension": "a.xyz2", "truncated_binvox": "t.binvox",
                      "junk": "junk.ply", "empty": "e.obj", "nan": "n.obj"}[case]
    if case == "extension":
        src.write_text("hello")
    elif case == "truncated_binvox":
        src.write_bytes(b"#binvox 1\ndim 4 4 4\ntranslate 0 0 0\nscale 1\ndata\n\x00\x10")
    elif case == "junk":
        src.write_bytes(b"\xff\xfe garbage bytes")
    elif case == "empty":
        src.write_text("")
    elif case == "nan":
        src.write_text("v 0 0 0\nv 1 0 0\nv nan 1 0\nf 1 2 3\n")
    out = tmp_path / "out.glb"
    code, _, err = run(capsys, "convert", str(src), str(out))
    assert code == 2
    assert err.startswith("lift3d: error:") and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".out*"))
