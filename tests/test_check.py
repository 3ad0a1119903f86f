"""`lift3d check` and lift3d.quality on a generated corpus of broken meshes (tests/quality_corpus.py): each defect
detected with the right count, fixed where the report says it is, self-intersections reported as not fixed."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh

from conftest import run_cli as run
from lift3d.errors import InputError
from lift3d.io.meshes import load_mesh
from lift3d.quality import check_mesh_quality, fix_mesh
from lift3d.quality.intersect import self_intersecting_pairs
from quality_corpus import FIXED_REQUIRE, SELF_INTERSECTING, corpus, write_case

CORPUS = corpus()


@pytest.fixture(scope="module")
def reports():
    return {name: check_mesh_quality(case.mesh) for name, case in CORPUS.items()}


@pytest.mark.parametrize("name", CORPUS)
def test_each_defect_is_detected(reports, name):
    report = reports[name]
    for key, want in CORPUS[name].expect.items():
        got = getattr(report, key)
        if key == "size":
            assert got == pytest.approx(want), key
        else:
            assert got == want, f"{name}: {key} = {got!r}, expected {want!r} ({report.verdict()})"
    assert report.passes() == CORPUS[name].passes, report.verdict()
    if name in SELF_INTERSECTING:
        assert report.self_intersections > 0 and not report.self_intersections_capped


def test_verdict_names_the_defects(reports):
    assert reports["sphere"].verdict() == "closed, manifold, outward normals, 1 part, 1,280 faces, 0.8 x 0.8 x 0.8"
    assert reports["one_hole"].verdict().startswith("NOT closed (1 hole, 3 boundary edges), manifold, ")
    assert "2 parts (1 speck under 1% of the volume)" in reports["speck"].verdict()
    assert "normals INVERTED (1 part)" in reports["inverted"].verdict()
    assert "winding INCONSISTENT (12 edges)" in reports["flipped"].verdict()
    assert "14 self-intersecting pairs" in reports["overlap"].verdict()
    assert reports["one_hole"].problems() == ["NOT closed (1 hole, 3 boundary edges)",
                                              "normals unknown (not closed)"]


def test_to_dict_is_json(reports):
    data = json.loads(json.dumps(reports["speck"].to_dict()))
    assert data["specks"] == 1 and data["part_count"] == 2 and data["passes"] is False
    assert [p["speck"] for p in data["parts"]] == [False, True] and data["parts"][1]["share"] < 0.001
    assert data["verdict"] == reports["speck"].verdict()


def test_speck_fraction_and_requirements():
    mesh = CORPUS["speck"].mesh
    assert check_mesh_quality(mesh, speck_fraction=0.0001, self_intersections=False).specks == 0
    report = check_mesh_quality(mesh, speck_fraction=0.5, self_intersections=False)
    assert report.specks == 1 and report.passes(("closed", "manifold")) and not report.passes()
    with pytest.raises(InputError, match="unknown requirement 'shiny'"):
        report.passes(("shiny",))
    with pytest.raises(InputError, match="speck fraction"):
        check_mesh_quality(mesh, speck_fraction=1.5)
    with pytest.raises(InputError, match="every face repeats a vertex"):
        check_mesh_quality(trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 0, 1], [1, 2, 2]], process=False))


@pytest.mark.parametrize("name", [n for n, c in CORPUS.items() if c.fixable])
def test_fix_repairs_what_it_says(reports, name):
    fixed = fix_mesh(CORPUS[name].mesh, reports[name])
    assert fixed.report.passes(FIXED_REQUIRE), (name, fixed.notes, fixed.unfixed)
    assert fixed.unfixed == [] and bool(fixed.notes) == (not reports[name].passes(FIXED_REQUIRE))
    assert check_mesh_quality(fixed.mesh).verdict() == fixed.report.verdict()
    if name in ("torus", "two_holes"):
        assert fixed.report.genus == 1
    if name.startswith("hollow"):
        assert fixed.report.cavities == 1 and fixed.report.parts[1].volume < 0


@pytest.mark.parametrize("name", SELF_INTERSECTING)
def test_self_intersections_are_reported_not_fixed(reports, name):
    fixed = fix_mesh(CORPUS[name].mesh, reports[name])
    assert fixed.report.self_intersections == reports[name].self_intersections
    assert fixed.unfixed == [f"self-intersections: {reports[name].self_intersections} intersecting triangle pairs "
                             "(reported, not repaired)"]


@pytest.mark.parametrize("name", ["fin", "edge_shared"])
def test_non_manifold_needs_watertight(reports, name):
    plain = fix_mesh(CORPUS[name].mesh, reports[name])
    assert not plain.report.manifold and any("--watertight" in u for u in plain.unfixed)
    tight = fix_mesh(CORPUS[name].mesh, reports[name], watertight=True, watertight_res=24)
    assert tight.report.passes(FIXED_REQUIRE), tight.unfixed
    assert any("voxel remesh" in note for note in tight.notes)


def test_fix_keeps_texture_when_it_only_drops_parts_and_turns_faces():
    mesh = CORPUS["textured"].mesh
    faces = np.array(mesh.faces)
    faces[:3] = faces[:3, ::-1]
    broken = trimesh.util.concatenate([trimesh.Trimesh(mesh.vertices, faces, visual=mesh.visual, process=False)])
    fixed = fix_mesh(broken)
    assert fixed.notes == ["normals: 3 of 1280 faces flipped"] and fixed.report.passes()
    assert isinstance(fixed.mesh.visual, trimesh.visual.TextureVisuals) and len(fixed.mesh.vertices) == 3840
    holed = trimesh.Trimesh(mesh.vertices, mesh.faces[1:], visual=mesh.visual, process=False)
    filled = fix_mesh(holed)
    assert filled.report.passes() and "texture / colours dropped" in filled.notes[0]


def test_kd_split_finds_what_open3d_finds_alone():
    import open3d as o3d

    mesh = CORPUS["overlap"].mesh.subdivide()
    legacy = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(mesh.vertices),
                                       o3d.utility.Vector3iVector(mesh.faces))
    whole = np.unique(np.sort(np.asarray(legacy.get_self_intersecting_triangles()), axis=1), axis=0)
    pairs, capped = self_intersecting_pairs(mesh.vertices, mesh.faces, leaf=8)
    assert not capped and len(whole) > 0 and np.array_equal(pairs, whole)
    some, capped = self_intersecting_pairs(mesh.vertices, mesh.faces, max_pair_tests=200, leaf=8)
    assert capped and len(some) < len(whole)
    report = check_mesh_quality(mesh, max_pair_tests=200)
    assert report.self_intersections_capped and "at least" in report.verdict()


# ---------------------------------------------------------------- the command


def test_cli_exit_codes_and_table(tmp_path, capsys):
    good = write_case(CORPUS["torus"], tmp_path, "torus")
    code, out, _ = run(capsys, "check", good)
    assert code == 0 and "genus           1" in out and out.rstrip().endswith("passes: closed, manifold, outward, "
                                                                             "no_specks")
    bad = write_case(CORPUS["one_hole"], tmp_path, "hole")
    code, out, _ = run(capsys, "check", bad)
    assert code == 1 and "verdict: NOT closed (1 hole, 3 boundary edges)" in out and "FAILS: " in out
    assert run(capsys, "check", bad, "--require", "manifold")[0] == 0
    assert run(capsys, "check", write_case(CORPUS["overlap"], tmp_path, "overlap"),
               "--require", "closed,no_self_intersections")[0] == 1


def test_cli_json_and_units(tmp_path, capsys):
    path = write_case(CORPUS["textured"], tmp_path, "textured")
    assert path.suffix == ".glb" and not load_mesh(path).is_watertight  # the seams split vertices as loaded
    code, out, _ = run(capsys, "check", path, "--json")
    data = json.loads(out)
    assert code == 0 and data["passes"] is True and data["report"]["closed"] is True
    assert data["report"]["units"] == "metres" and data["report"]["genus"] == 0


@pytest.mark.parametrize("name", ["speck", "flipped", "degenerate", "fan_hole"])
def test_cli_fix_writes_a_passing_mesh(tmp_path, capsys, name):
    src = write_case(CORPUS[name], tmp_path, name)
    out_path = tmp_path / "fixed.obj"
    code, out, err = run(capsys, "check", src, "--fix", "-o", out_path)
    assert code == 0, out + err
    assert "fixed: " in out and f"wrote {out_path}: closed, manifold, outward normals, 1 part" in out
    assert check_mesh_quality(load_mesh(out_path)).passes(FIXED_REQUIRE)


def test_cli_fix_json_says_what_is_not_fixed(tmp_path, capsys):
    src = write_case(CORPUS["overlap"], tmp_path, "overlap")
    code, out, _ = run(capsys, "check", src, "--fix", "-o", tmp_path / "o.ply", "--json",
                       "--require", "closed,no_self_intersections")
    data = json.loads(out)
    assert code == 1 and data["passes"] is False and data["fix"]["notes"] == []
    assert data["fix"]["unfixed"][0].startswith("self-intersections: 14 ")
    assert (tmp_path / "o.ply").is_file()


@pytest.mark.parametrize("args, message", [
    (["missing.ply"], "file not found"),
    (["corrupt.glb"], "corrupt.glb"),
    (["points.xyz"], "not a mesh"),
    (["torus.ply", "--fix"], "--fix needs -o"),
    (["torus.ply", "-o", "x.ply"], "add --fix"),
    (["torus.ply", "--fix", "-o", "torus.ply"], "also an input"),
    (["torus.ply", "--fix", "-o", "x.png"], ".png"),
    (["torus.ply", "--require", "shiny"], "unknown requirement 'shiny'"),
    (["torus.ply", "--speck-fraction", "2"], "--speck-fraction"),
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    write_case(CORPUS["torus"], tmp_path, "torus")
    (tmp_path / "corrupt.glb").write_bytes(b"glTF\x02\x00\x00\x00" + bytes(range(64)))
    (tmp_path / "points.xyz").write_text("\n".join("0 0 0" for _ in range(20)))
    code, out, err = run(capsys, "check", *args)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and message in err, err
