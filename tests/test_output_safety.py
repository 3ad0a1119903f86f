"""Outputs never clobber inputs, bad output paths and options fail before any work, and a multi-image
``reconstruct`` writes all of its outputs or none (issue 18).

Every failure is checked the same way (:func:`fails_cleanly`): exit code 2, exactly one stderr line starting
``lift3d: error:``, no traceback, and the folder holding inputs and outputs byte-for-byte unchanged (no new file,
no temporary file left behind, no input touched).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from lift3d.cli import main


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (hidden ones too) and folder under ``folder`` -> its bytes (None for a folder)."""
    out: dict[str, bytes | None] = {}
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            out[os.path.relpath(Path(root) / d, folder)] = None
        for f in files:
            out[os.path.relpath(Path(root) / f, folder)] = (Path(root) / f).read_bytes()
    return out


def fails_cleanly(capsys, folder: Path, *args, match: str | None = None) -> str:
    """Run the CLI in-process; assert the failure contract (see the module docstring); return the error line."""
    before = snapshot(folder)
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    lines = out.err.splitlines()
    assert exc.value.code == 2, out.err
    assert len(lines) == 1 and lines[0].startswith("lift3d: error: "), out.err
    assert "Traceback" not in out.err + out.out
    assert snapshot(folder) == before, "a failing command changed files"
    if match is not None:
        assert re.search(match, lines[0]), lines[0]
    return lines[0]


def succeeds(capsys, *args) -> str:
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    assert (exc.value.code or 0) == 0, out.err
    return out.out


def _disc(path: Path, fmt: str | None = None, size: tuple[int, int] = (120, 90)) -> Path:
    """A red disc on a plain grey background (colour keying finds it), saved as ``fmt`` whatever the name."""
    w, h = size
    img = np.full((h, w, 3), 200, np.uint8)
    yy, xx = np.mgrid[:h, :w]
    img[(yy - h / 2) ** 2 + (xx - w / 2) ** 2 < (min(w, h) / 3) ** 2] = (180, 30, 30)
    Image.fromarray(img).save(path, format=fmt)
    return path


@pytest.fixture
def tet(tmp_path) -> Path:
    p = tmp_path / "tet.obj"
    trimesh.creation.icosphere(subdivisions=1).export(p)
    return p


# --- an output that is an input -----------------------------------------------------------------------------

def test_reconstruct_refuses_to_overwrite_a_png_named_glb(tmp_path, capsys, tiny_checkpoint):
    photo = _disc(tmp_path / "photo.glb", fmt="PNG")  # a PNG with a misleading extension
    fails_cleanly(capsys, tmp_path, "reconstruct", photo, "-o", photo, "--checkpoint", tiny_checkpoint,
                  match="output .*photo.glb is also an input")
    fails_cleanly(capsys, tmp_path, "reconstruct", photo, "-o", tmp_path / "." / "photo.glb", "--checkpoint",
                  tiny_checkpoint, match="also an input")


def test_reconstruct_refuses_any_input_among_several(tmp_path, capsys, tiny_checkpoint):
    a, b = _disc(tmp_path / "a.png"), _disc(tmp_path / "b.glb", fmt="PNG")
    mask = tmp_path / "m.png"
    Image.fromarray(np.full((90, 120), 255, np.uint8)).save(mask)
    (tmp_path / "link.glb").symlink_to(b)
    fails_cleanly(capsys, tmp_path, "reconstruct", a, b, "--views", "-o", tmp_path / "link.glb",
                  "--checkpoint", tiny_checkpoint, match="also an input")
    fails_cleanly(capsys, tmp_path, "reconstruct", a, "--mask", mask, "-o", tmp_path / "x.glb", "--preview", mask,
                  "--checkpoint", tiny_checkpoint, match="m.png is also an input")
    # a folder of results: the image b.glb would be overwritten by the result for b
    fails_cleanly(capsys, tmp_path, "reconstruct", a, b, "-o", tmp_path, "--checkpoint", tiny_checkpoint,
                  match="b.glb is also an input")


def test_convert_refuses_its_input_through_the_same_helper(tmp_path, capsys, tet):
    fails_cleanly(capsys, tmp_path, "convert", tet, tet, match="also an input")
    (tmp_path / "hard.obj").hardlink_to(tet)
    fails_cleanly(capsys, tmp_path, "convert", tet, tmp_path / "hard.obj", match="also an input")


# --- output paths: a folder, a missing folder, an unwritable folder ---------------------------------------------

def test_output_that_is_a_folder(tmp_path, capsys, tet, tiny_checkpoint):
    (tmp_path / "out.glb").mkdir()
    fails_cleanly(capsys, tmp_path, "convert", tet, tmp_path / "out.glb", match="is an existing folder")
    photo = _disc(tmp_path / "p.png")
    fails_cleanly(capsys, tmp_path, "reconstruct", photo, "-o", tmp_path / "out.glb", "--checkpoint",
                  tiny_checkpoint, match="is an existing folder")
    fails_cleanly(capsys, tmp_path, "reconstruct", photo, photo, "-o", photo, "--checkpoint", tiny_checkpoint,
                  match="names a folder, but .*p.png is a file")


def test_output_in_a_missing_folder(tmp_path, capsys, tet, tiny_checkpoint):
    fails_cleanly(capsys, tmp_path, "convert", tet, tmp_path / "nope" / "x.glb", match="nope does not exist")
    photo = _disc(tmp_path / "p.png")
    fails_cleanly(capsys, tmp_path, "reconstruct", photo, "-o", tmp_path / "nope" / "x.glb", "--checkpoint",
                  tiny_checkpoint, match="nope does not exist")


def test_output_in_an_unwritable_folder(tmp_path, capsys, tet):
    if os.geteuid() == 0:  # root writes anywhere on a writable file system: use one that refuses even root
        target = Path("/proc/self/x.glb")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "x.glb"
    fails_cleanly(capsys, tmp_path, "convert", tet, target, match="cannot write .*x.glb")
    assert not target.exists()


# --- bad options ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("out", "option", "value", "match"), [
    ("x.binvox", "--res", "100000", r"--res must be in \[1, 512\].*LIFT3D_MAX_VOXEL_RESOLUTION"),
    ("x.binvox", "--res", "0", r"--res must be in \[1, 512\], got 0$"),
    ("x.xyz", "--points", "10000000000", r"--points must be in \[1, 10,000,000\].*LIFT3D_MAX_POINTS"),
    ("x.xyz", "--points", "-10", r"--points must be in \[1, 10,000,000\], got -10$"),
    ("x.glb", "--level", "nan", r"--level must be in \(0, 1\), got nan"),
    ("x.glb", "--level", "inf", r"--level must be in \(0, 1\), got inf"),
    ("x.glb", "--level", "1", r"--level must be in \(0, 1\), got 1.0"),
])
def test_convert_bad_options(tmp_path, capsys, tet, out, option, value, match):
    fails_cleanly(capsys, tmp_path, "convert", tet, tmp_path / out, option, value, match=match)


@pytest.mark.parametrize(("option", "value", "match"), [
    ("--smooth", "-1", r"--smooth must be in \[0, 1,000\]"),
    ("--threads", "0", r"--threads must be in \[1, 1,024\]"),
    ("--threshold", "nan", "threshold must be between 0 and 1"),
])
def test_reconstruct_bad_options(tmp_path, capsys, tiny_checkpoint, option, value, match):
    photo = _disc(tmp_path / "p.png")
    fails_cleanly(capsys, tmp_path, "reconstruct", photo, "-o", tmp_path / "x.glb", "--checkpoint", tiny_checkpoint,
                  option, value, match=match)


# --- several images: all or nothing ----------------------------------------------------------------------------

def test_a_failing_image_leaves_no_output(tmp_path, capsys, tiny_checkpoint):
    good = _disc(tmp_path / "good.png")
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((90, 120, 3), 200, np.uint8)).save(blank)  # no object: fails after good.png is done
    out = tmp_path / "out"
    line = fails_cleanly(capsys, tmp_path, "reconstruct", good, blank, "-o", out, "--preview", tmp_path / "t.png",
                         "--checkpoint", tiny_checkpoint)
    assert "blank.png" in line and "no output written" in line
    assert not out.exists()  # the folder made for the outputs is gone too
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    fails_cleanly(capsys, tmp_path, "reconstruct", good, blank, "-o", out, "--checkpoint", tiny_checkpoint)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_several_images_all_written_with_distinct_names(tmp_path, capsys, tiny_checkpoint):
    for sub in ("one", "two"):
        (tmp_path / sub).mkdir()
    a, b = _disc(tmp_path / "one" / "photo.png"), _disc(tmp_path / "two" / "photo.png")
    out = tmp_path / "out"
    stdout = succeeds(capsys, "reconstruct", a, b, "-o", out, "--format", "stl", "--preview", tmp_path / "t.png",
                      "--checkpoint", tiny_checkpoint)
    assert sorted(p.name for p in out.iterdir()) == ["photo.stl", "photo_2.stl"]
    assert (tmp_path / "photo_t.png").is_file() and (tmp_path / "photo_2_t.png").is_file()
    assert stdout.count("view(s)") == 2
    assert not [p for p in tmp_path.rglob(".*") if ".tmp" in p.name]  # no temporary file left


def test_help_documents_all_or_nothing(capsys):
    out = succeeds(capsys, "reconstruct", "--help")
    assert "All or nothing" in out
