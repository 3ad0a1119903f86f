"""`lift3d blender`: the Blender hand-off (issue 15).

Without Blender: `--script-only`, the input checks (exit 2, one line, no output left), "Blender not found" and the
runner's handling of a Blender that fails or hangs (a fake `blender` script). With Blender (the bpy module,
$LIFT3D_BLENDER or `blender` on PATH): a textured GLB becomes a .blend whose material's Base Color is linked to the
texture image (checked by the script's summary and again by reopening the saved file), and a preview PNG.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from conftest import run_cli as run
from lift3d.blender import runner

TEXTURE_SIZE = (32, 24)  # width, height: not square, so a swapped size shows


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.fixture
def textured_glb(tmp_path) -> Path:
    """A box with UVs and a texture of four distinct colours (quadrants), as trimesh exports it."""
    box = trimesh.creation.box(extents=(1.0, 0.6, 0.8)).subdivide()
    v = box.vertices
    uv = np.c_[v[:, 0] + 0.5, (v[:, 1] + 0.3) / 0.6]
    w, h = TEXTURE_SIZE
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 2, : w // 2], img[: h // 2, w // 2:] = (220, 40, 40), (40, 200, 40)
    img[h // 2:, : w // 2], img[h // 2:, w // 2:] = (40, 40, 220), (230, 210, 30)
    box.visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(img))
    path = tmp_path / "box.glb"
    box.export(path)
    return path


@pytest.fixture(scope="module")
def backend() -> runner.Backend:
    try:
        return runner.find_blender()
    except runner.BlenderError as exc:
        pytest.skip(str(exc))


# --- no Blender needed -------------------------------------------------------------------------------------------

def test_script_only_writes_a_script_that_compiles(tmp_path, capsys):
    out = tmp_path / "scene.py"
    code, stdout, err = run(capsys, "blender", "--script-only", out)
    assert code == 0, err
    src = out.read_text()
    compile(src, str(out), "exec")
    assert src.startswith("# Written by lift3d")
    assert f"-P {out} -- MODEL.glb --blend scene.blend" in src and "import bpy" in src
    assert files_in(tmp_path) == {"scene.py"}


def test_script_only_header_names_the_model_and_outputs(tmp_path, capsys, textured_glb):
    out = tmp_path / "s.py"
    code, _, err = run(capsys, "blender", textured_glb, "-o", tmp_path / "x.blend", "--render", tmp_path / "x.png",
                       "--size", 64, "--script-only", out)
    assert code == 0, err
    expected = f"-- {textured_glb} --blend {tmp_path / 'x.blend'} --render {tmp_path / 'x.png'} --size 64"
    assert expected in out.read_text()
    assert not (tmp_path / "x.blend").exists()


def _bad_cases(tmp: Path, glb: Path) -> dict[str, tuple[list, str]]:
    out = tmp / "out.blend"
    return {
        "missing model": ([tmp / "nope.glb", "-o", out], "file not found"),
        "no model": (["-o", out], "give the model"),
        "not a model": ([tmp / "photo.png", "-o", out], "takes .glb"),
        "not a GLB": ([tmp / "fake.glb", "-o", out], "is not a GLB file"),
        "no output": ([glb], "-o scene.blend"),
        "output not .blend": ([glb, "-o", tmp / "out.glb"], "must end in .blend"),
        "render not .png": ([glb, "-o", out, "--render", tmp / "r.jpg"], "must end in .png"),
        "size too small": ([glb, "-o", out, "--size", 4], "--size"),
        "samples zero": ([glb, "-o", out, "--samples", 0], "--samples"),
        "output is a folder": ([glb, "-o", tmp / "folder.blend"], "existing folder"),
        "output folder missing": ([glb, "-o", tmp / "no" / "out.blend"], "does not exist"),
        "output is the input": ([glb, "-o", glb.with_suffix(".blend"), "--render", glb], "must end in .png"),
        "script not .py": (["--script-only", tmp / "s.txt"], "must end in .py"),
    }


@pytest.mark.parametrize("case", list(_bad_cases(Path("/nonexistent"), Path("/x.glb")).keys()))
def test_bad_input_is_one_line_and_leaves_nothing(tmp_path, capsys, textured_glb, case):
    (tmp_path / "fake.glb").write_bytes(b"PK\x03\x04 not a glb")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG")
    (tmp_path / "folder.blend").mkdir()
    args, words = _bad_cases(tmp_path, textured_glb)[case]
    before = files_in(tmp_path)
    code, _, err = run(capsys, "blender", *args)
    assert code == 2
    assert err.startswith("lift3d: error:") and err.count("\n") == 1 and words in err, err
    assert files_in(tmp_path) == before


def test_blender_not_found_says_how_to_get_it(tmp_path, capsys, monkeypatch, textured_glb):
    monkeypatch.delenv(runner.ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(runner, "has_bpy", lambda: False)
    code, _, err = run(capsys, "blender", textured_glb, "-o", tmp_path / "out.blend")
    assert code == 2 and "Blender not found" in err
    assert "pip install 'lift3d[blender]'" in err and "apt install blender" in err and runner.ENV_VAR in err
    assert files_in(tmp_path) == {"box.glb"}


def _fake_blender(tmp_path: Path, body: str) -> Path:
    exe = tmp_path / "bin" / "blender"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    exe.chmod(0o755)
    return exe


@pytest.mark.parametrize("body, words", [
    ('echo "LIFT3D_ERROR Blender could not import the model: ValueError: bad"; exit 1\n',
     "could not import the model: ValueError: bad"),
    ('echo "Error: Not freed memory blocks" >&2; echo "Segmentation fault" >&2; exit 139\n', "failed: Error:"),
    ("exit 0\n", "failed: exit code 0"),  # no summary line: a failure even with exit code 0
    ("/bin/sleep 30\n", "did not finish within 1 s"),
])
def test_blender_failure_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch, textured_glb, body, words):
    monkeypatch.setenv(runner.ENV_VAR, str(_fake_blender(tmp_path, body)))
    code, _, err = run(capsys, "blender", textured_glb, "-o", tmp_path / "out.blend", "--render",
                       tmp_path / "out.png", "--timeout", 1)
    assert code == 2 and err.count("\n") == 1 and words in err, err
    assert files_in(tmp_path) == {"box.glb", "bin"}


def test_lift3d_blender_must_be_executable(tmp_path, capsys, monkeypatch, textured_glb):
    monkeypatch.setenv(runner.ENV_VAR, str(tmp_path / "no-such-blender"))
    code, _, err = run(capsys, "blender", textured_glb, "-o", tmp_path / "out.blend")
    assert code == 2 and "is not an executable file" in err


def test_backend_commands():
    assert runner.Backend("blender", "/usr/bin/blender").command("s.py", ["m.glb"]) == [
        "/usr/bin/blender", "-b", "--factory-startup", "--python-exit-code", "1", "-P", "s.py", "--", "m.glb"]
    assert runner.Backend("bpy", "/venv/bin/python").command("s.py", ["m.glb"]) == [
        "/venv/bin/python", "s.py", "--", "m.glb"]


# --- with Blender --------------------------------------------------------------------------------------------------

# Reopens a saved .blend and reports, per material, the images feeding the Principled BSDF's Base Color.
REOPEN = """
import json, sys
import bpy
bpy.ops.wm.open_mainfile(filepath=sys.argv[sys.argv.index("--") + 1])

def images(socket, depth=8):
    found = []
    for link in socket.links if depth else []:
        node = link.from_node
        if node.type == "TEX_IMAGE" and node.image is not None:
            found.append([node.image.name, list(node.image.size), node.image.packed_file is not None])
        for inp in node.inputs:
            found += images(inp, depth - 1)
    return found

out = {m.name: [images(n.inputs["Base Color"]) for n in m.node_tree.nodes if n.type == "BSDF_PRINCIPLED"]
       for m in bpy.data.materials if m.users and m.node_tree}
print("REOPENED " + json.dumps(out))
"""


def test_textured_glb_becomes_blend_with_texture_linked_and_a_render(tmp_path, capsys, backend, textured_glb):
    blend, png = tmp_path / "scene.blend", tmp_path / "preview.png"
    code, out, err = run(capsys, "blender", textured_glb, "-o", blend, "--render", png, "--size", 48,
                         "--samples", 4, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["texture_linked"] and summary["objects"] == 1
    (mat,) = summary["materials"]
    assert mat["principled"] and mat["base_color"] == "image" and mat["image_size"] == list(TEXTURE_SIZE)
    assert mat["metallic"] == 0.0  # the GLB states no metallic factor: not glTF's default 1 (a dark mirror)
    assert blend.read_bytes()[:7] == b"BLENDER"
    assert files_in(tmp_path) == {"box.glb", "scene.blend", "preview.png"}  # no temporary or .blend1 file left

    rgba = np.asarray(Image.open(png).convert("RGBA"))
    assert rgba.shape == (48, 48, 4)
    assert rgba[24, 24, 3] == 255 and rgba[0, 0, 3] == 0  # the object in the middle, transparent background
    assert rgba[..., :3][rgba[..., 3] == 255].std(axis=0).max() > 20  # coloured faces, not one flat grey

    script = tmp_path / "reopen.py"
    script.write_text(REOPEN)
    proc = subprocess.run(backend.command(script, [str(blend)]), capture_output=True, text=True, timeout=300)
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("REOPENED "))
    (bsdfs,) = json.loads(line.removeprefix("REOPENED ")).values()
    assert bsdfs == [[[mat["image"], list(TEXTURE_SIZE), True]]]  # linked, right size, packed into the .blend


@pytest.mark.parametrize("name, colour, flags, height", [
    ("plain.stl", "value", [], 1.0),  # lift3d's frame is +Y up: the box's 1.0 side becomes Blender's Z
    ("plain.stl", "value", ["--z-up"], 0.4),  # a +Z-up file keeps its axes
    ("colours.ply", "color_attribute", [], 1.0),
])
def test_untextured_models_get_a_principled_material(tmp_path, capsys, backend, name, colour, flags, height):
    mesh = trimesh.creation.box(extents=(0.2, 1.0, 0.4))
    if colour == "color_attribute":
        mesh.visual.vertex_colors = np.c_[np.round((mesh.vertices + 0.5) * 255), np.full(len(mesh.vertices), 255)]
    mesh.export(tmp_path / name)
    code, out, err = run(capsys, "blender", tmp_path / name, "-o", tmp_path / "s.blend", "--json", *flags)
    assert code == 0, err
    summary = json.loads(out)
    (mat,) = summary["materials"]
    assert (mat["base_color"], mat["metallic"], mat["roughness"]) == (colour, 0.0, 0.6)
    lo, hi = np.array(summary["bounds"])
    assert hi[2] - lo[2] == pytest.approx(height, abs=1e-4)


def test_script_only_output_runs_in_blender(tmp_path, capsys, backend, textured_glb):
    script = tmp_path / "scene.py"
    assert run(capsys, "blender", "--script-only", script)[0] == 0
    args = [str(textured_glb), "--blend", str(tmp_path / "own.blend"), "--size", "16", "--samples", "1"]
    proc = subprocess.run(backend.command(script, args), capture_output=True, text=True, timeout=300,
                          env={**os.environ})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert '"texture_linked": true' in proc.stdout and (tmp_path / "own.blend").read_bytes()[:7] == b"BLENDER"


def test_a_model_blender_cannot_read_is_one_line(tmp_path, capsys, backend):
    bad = tmp_path / "bad.glb"
    bad.write_bytes(b"glTF" + b"\x02\x00\x00\x00" + b"\xff" * 40)
    code, _, err = run(capsys, "blender", bad, "-o", tmp_path / "bad.blend", "--render", tmp_path / "bad.png")
    assert code == 2 and err.count("\n") == 1 and "bad.glb" in err, err
    assert files_in(tmp_path) == {"bad.glb"}


# --- FBX for game engines (issue 19) -------------------------------------------------------------------------------

def test_script_only_header_for_fbx(tmp_path, capsys, textured_glb):
    out = tmp_path / "s.py"
    code, _, err = run(capsys, "blender", textured_glb, "-o", tmp_path / "x.fbx", "--script-only", out)
    assert code == 0, err
    assert f"-- {textured_glb} --fbx {tmp_path / 'x.fbx'} --size" in out.read_text()


# Imports an FBX into an empty scene and reports the mesh objects' world bounds and the images feeding Base Color.
REIMPORT_FBX = """
import json, sys
import bpy
from mathutils import Vector
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.fbx(filepath=sys.argv[sys.argv.index("--") + 1])
meshes = [o for o in bpy.context.scene.objects if o.type == "MESH"]
corners = [o.matrix_world @ Vector(c) for o in meshes for c in o.bound_box]
images = [[list(n.image.size), n.image.packed_file is not None] for m in bpy.data.materials if m.node_tree
          for n in m.node_tree.nodes if n.type == "TEX_IMAGE" and n.image is not None and n.outputs["Color"].links
          and any(link.to_socket.name == "Base Color" for link in n.outputs["Color"].links)]
print("REIMPORTED " + json.dumps({"objects": sorted(o.type for o in bpy.context.scene.objects), "images": images,
      "extent": [max(c[i] for c in corners) - min(c[i] for c in corners) for i in range(3)]}))
"""


def test_textured_glb_becomes_fbx_with_the_texture_embedded(tmp_path, capsys, backend, textured_glb):
    fbx = tmp_path / "model.fbx"
    code, out, err = run(capsys, "blender", textured_glb, "-o", fbx, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["fbx"] == str(fbx) and summary["blend"] is None and summary["texture_linked"]
    data = fbx.read_bytes()
    assert data.startswith(b"Kaydara FBX Binary") and b"\x89PNG\r\n\x1a\n" in data  # the texture is inside
    assert files_in(tmp_path) == {"box.glb", "model.fbx"}  # no side texture folder, no temporary

    script = tmp_path / "reimport.py"
    script.write_text(REIMPORT_FBX)
    proc = subprocess.run(backend.command(script, [str(fbx)]), capture_output=True, text=True, timeout=300)
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("REIMPORTED "))
    back = json.loads(line.removeprefix("REIMPORTED "))
    assert back["objects"] == ["MESH"]  # the model only: no camera or lights in an engine asset
    assert back["images"] == [[list(TEXTURE_SIZE), True]]  # embedded, linked to Base Color again
    # Metres kept (no 100x), and the box's 0.6 height (glTF +Y) is Blender's Z again after the round trip.
    assert back["extent"] == pytest.approx([1.0, 0.8, 0.6], abs=1e-4)
