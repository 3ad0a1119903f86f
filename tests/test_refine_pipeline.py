"""Refinement pipeline (issue 15): one numeric property per step, the --post grammar and its errors, bad meshes."""

from __future__ import annotations

import time

import numpy as np
import pytest
import trimesh

from lift3d.errors import InputError
from lift3d.geometry.voxels import raycasting_scene, voxel_centers, voxels_to_mesh
from lift3d.postprocess import (
    Step,
    apply_post,
    cleanup,
    decimate,
    describe,
    fill_holes,
    is_closed_manifold,
    parse_post,
    refine,
    refine_steps,
    remove_small_components,
    run_post,
    taubin_smooth,
)
from lift3d.postprocess.pipeline import STEPS, help_lines
from lift3d.postprocess.repair import boundary_edge_count

R = 0.35


@pytest.fixture(scope="module")
def vsphere() -> trimesh.Trimesh:
    """Marching cubes of a radius-0.35 sphere voxelised at 32^3 (4.7k faces): what the networks produce."""
    return voxels_to_mesh((np.linalg.norm(voxel_centers(32), axis=-1) < R).astype(np.float32))


@pytest.fixture(scope="module")
def smooth_sphere(vsphere) -> trimesh.Trimesh:
    return taubin_smooth(vsphere, 10)


@pytest.fixture(scope="module")
def holed(vsphere) -> trimesh.Trimesh:
    keep = np.nonzero(vsphere.triangles_center[:, 1] < 0.3)[0]  # cap cut off: one hole
    return vsphere.submesh([keep], append=True)


@pytest.fixture
def fin(box_mesh) -> trimesh.Trimesh:
    """A box with a fin triangle on one edge: that edge has three faces (non-manifold)."""
    e = box_mesh.edges_unique[0]
    tip = box_mesh.vertices[e].mean(axis=0) * 1.5
    return trimesh.Trimesh(np.vstack([box_mesh.vertices, tip]), np.vstack([box_mesh.faces, [[e[0], e[1], 8]]]),
                           process=False)


def surface_distances(a: trimesh.Trimesh, b: trimesh.Trimesh, n: int = 5000) -> tuple[float, float]:
    """Mean and max (Hausdorff) of exact point-to-surface distances, samples on each mesh against the other."""
    import open3d as o3d

    d = []
    for src, dst, seed in ((a, b, 0), (b, a, 1)):
        pts, _ = trimesh.sample.sample_surface(src, n, seed=seed)
        d.append(raycasting_scene(dst).compute_distance(o3d.core.Tensor(pts.astype(np.float32))).numpy())
    d = np.concatenate(d)
    return float(d.mean()), float(d.max())


# ---------------------------------------------------------------- one numeric property per step


def test_taubin_keeps_volume_within_2_percent(vsphere):
    ico = trimesh.creation.icosphere(subdivisions=3, radius=R)
    for mesh in (vsphere, ico):
        out = apply_post(mesh, "smooth:taubin:10")
        assert out.volume == pytest.approx(mesh.volume, rel=0.02)
    out = apply_post(vsphere, "smooth")  # default: Taubin, 10 pairs
    assert out.volume == pytest.approx(4 / 3 * np.pi * R**3, rel=0.02)
    radial = np.abs(np.linalg.norm(out.vertices, axis=1) - R).mean()
    assert radial < 0.6 * np.abs(np.linalg.norm(vsphere.vertices, axis=1) - R).mean()  # staircase smoothed


def test_laplacian_keeps_volume_within_2_percent(vsphere):
    out, note = parse_post("smooth:laplacian:5")[0].run(vsphere)
    assert out.volume == pytest.approx(vsphere.volume, rel=0.02)
    assert note.startswith("smooth:laplacian:5: laplacian, 5 iterations, volume ")


def test_watertight_closes_holes_and_proves_it(holed):
    assert not is_closed_manifold(holed)
    out, note = Step("watertight").run(holed)
    assert is_closed_manifold(out) and out.is_watertight
    assert note == "watertight: holes filled, closed (manifold3d)"
    assert out.volume == pytest.approx(4 / 3 * np.pi * R**3, rel=0.03)


def test_watertight_repairs_non_manifold_mesh_by_voxel_remesh(fin):
    assert not is_closed_manifold(fin)
    out, note = Step("watertight", (48,)).run(fin)
    assert is_closed_manifold(out)
    assert note.startswith("watertight:48: voxel remesh at 48 (detail under 1/48 of the size lost)")
    assert out.volume == pytest.approx(0.192, rel=0.03)  # the 0.6 x 0.4 x 0.8 box (+ a thin fin)


def test_watertight_keeps_a_closed_mesh(box_mesh):
    out, note = Step("watertight").run(box_mesh)
    assert note == "watertight: already closed (manifold3d)"
    assert np.array_equal(out.faces, cleanup(box_mesh).faces) and out.volume == pytest.approx(0.192)


@pytest.mark.parametrize("spec, target", [("decimate:1000", 1000), ("decimate:0.25", None)])
def test_decimate_face_count_within_5_percent_and_closed(smooth_sphere, spec, target):
    target = target or 0.25 * len(smooth_sphere.faces)
    out = apply_post(smooth_sphere, spec)
    assert abs(len(out.faces) - target) <= 0.05 * target
    assert is_closed_manifold(out)
    assert surface_distances(smooth_sphere, out)[1] < 0.02  # < 2/3 of a 32^3 cell


def test_remesh_edges_uniform_at_target_and_close_to_input(smooth_sphere):
    target = 0.04
    out, note = Step("remesh", (target,)).run(smooth_sphere)
    lengths = out.edges_unique_length
    assert lengths.std() / lengths.mean() < 0.3
    assert abs(lengths.mean() - target) < 0.25 * target
    mean, hausdorff = surface_distances(smooth_sphere, out)
    diagonal = float(np.linalg.norm(smooth_sphere.extents))
    assert hausdorff < 0.015 * diagonal and mean < 0.002  # MeshLab refuses moves over 1 % of the diagonal
    assert is_closed_manifold(out)
    assert note.startswith(f"remesh:0.04: {len(smooth_sphere.faces)} -> {len(out.faces)} faces, edge 0.04")


def test_remesh_default_keeps_density_and_creases(smooth_sphere, box_mesh):
    before = smooth_sphere.edges_unique_length
    out = apply_post(smooth_sphere, "remesh")
    after = out.edges_unique_length
    assert abs(after.mean() - before.mean()) < 0.25 * before.mean()
    assert after.std() / after.mean() < before.std() / before.mean()  # more regular than marching cubes
    box = apply_post(box_mesh, "remesh:0.1:5")
    assert box.volume == pytest.approx(0.192, rel=1e-3) and np.allclose(box.bounds, box_mesh.bounds, atol=1e-6)


def test_specks_removes_a_half_percent_floater(vsphere):
    radius = np.sqrt(0.005 * vsphere.area / (4 * np.pi))  # 0.5 % of the main surface
    floater = trimesh.creation.icosphere(subdivisions=2, radius=radius)
    floater.apply_translation([0.45, 0.45, 0.45])
    both = trimesh.util.concatenate([vsphere, floater])
    out = apply_post(both, "specks")
    assert len(out.faces) == len(vsphere.faces) and out.area == pytest.approx(vsphere.area)
    # Closed parts are measured by volume: 0.5 % of the area is (0.005)^1.5 = 0.035 % of the volume.
    assert len(apply_post(both, "specks:0.001").faces) == len(vsphere.faces)
    assert len(apply_post(both, "specks:0.0002").faces) == len(both.faces)  # under the threshold: kept


def test_fill_closes_the_hole(holed):
    assert boundary_edge_count(holed) > 0
    out, note = Step("fill").run(holed)
    assert boundary_edge_count(out) == 0 and out.is_winding_consistent and out.volume > 0
    assert note == f"fill: open edges {boundary_edge_count(holed)} -> 0"


def test_normals_turns_inverted_mesh_outward(vsphere):
    inverted = vsphere.copy()
    inverted.invert()
    assert inverted.volume < 0
    out, note = Step("normals").run(inverted)
    assert out.volume == pytest.approx(vsphere.volume) and out.is_winding_consistent
    assert note == f"normals: {len(out.faces)} of {len(out.faces)} faces flipped"
    assert np.array_equal(Step("normals")(vsphere).faces, vsphere.faces)  # already outward: untouched


def test_clean_merges_a_triangle_soup(box_mesh):
    soup = trimesh.Trimesh(box_mesh.triangles.reshape(-1, 3), np.arange(36).reshape(12, 3), process=False)
    out, note = Step("clean").run(soup)
    assert len(out.vertices) == 8 and is_closed_manifold(out)
    assert note == "clean: 12 -> 12 faces, 36 -> 8 vertices"


# ---------------------------------------------------------------- the pipeline


def test_pipeline_order_and_notes_and_progress(smooth_sphere):
    calls = []
    result = run_post(smooth_sphere, "decimate:1000,smooth:laplacian:3",
                      progress=lambda done, total, note: calls.append((done, total, note)))
    by_hand = Step("smooth", ("laplacian", 3))(decimate(smooth_sphere, target_faces=1000))
    assert np.array_equal(result.mesh.vertices, by_hand.vertices)
    other = apply_post(smooth_sphere, [Step("smooth", ("laplacian", 3)), "decimate:1000"])
    assert not np.array_equal(other.vertices, result.mesh.vertices)  # order matters and is kept
    assert [c[:2] for c in calls] == [(1, 2), (2, 2)] and [c[2] for c in calls] == result.notes
    assert result.notes[0] == f"decimate:1000: {len(smooth_sphere.faces)} -> {len(result.mesh.faces)} faces"
    assert result.notes[1].startswith("smooth:laplacian:3: ")


def test_no_steps_returns_a_copy(box_mesh):
    out = apply_post(box_mesh, "")
    assert out is not box_mesh and np.array_equal(out.vertices, box_mesh.vertices)
    assert parse_post("  ") == []


def test_refine_is_the_pipeline_and_unchanged(holed):
    assert [str(s) for s in refine_steps(7, 1500, True, True, 0.02)] == [
        "clean", "specks:0.02", "fill", "smooth:taubin:7", "decimate:1500", "watertight"]
    assert [str(s) for s in refine_steps(fill=False)] == ["clean", "specks", "smooth:taubin:10"]
    # The chain refine() ran before it was expressed as steps: results must be identical.
    by_hand = decimate(taubin_smooth(fill_holes(remove_small_components(cleanup(holed), 0.01)), 10), 1500)
    out = refine(holed, target_faces=1500)
    assert np.array_equal(out.vertices, by_hand.vertices) and np.array_equal(out.faces, by_hand.faces)


# ---------------------------------------------------------------- grammar


def test_grammar_and_canonical_form():
    spec = "clean,specks:0.01,fill,smooth:taubin:10,smooth:laplacian:5,decimate:5000,decimate:0.5,remesh,remesh::5," \
           "remesh:0.02,watertight:32,normals, Smooth , FILL:0.1"
    steps = parse_post(spec)
    assert [str(s) for s in steps] == [
        "clean", "specks", "fill", "smooth:taubin:10", "smooth:laplacian:5", "decimate:5000", "decimate:0.5",
        "remesh", "remesh::5", "remesh:0.02", "watertight:32", "normals", "smooth:taubin:10", "fill:0.1"]
    assert parse_post(",".join(str(s) for s in steps)) == steps  # round trip
    assert steps[1].args == (0.01,) and steps[4].args == ("laplacian", 5) and steps[8].args == (None, 5)
    assert isinstance(steps[5].args[0], int) and isinstance(steps[6].args[0], float)
    # Python values go through the same checks.
    assert Step("decimate", (5000,)) == steps[5] and Step("smooth", ["laplacian"]) == steps[4]
    assert Step("smooth") == Step("smooth", ("taubin", "10"))


def test_help_lists_every_step():
    text = describe()
    assert len(help_lines()) == len(STEPS) == 8 and len(text.splitlines()) == 8
    for name in ("clean", "specks", "fill", "smooth", "decimate", "remesh", "watertight", "normals"):
        assert any(line.startswith(name) for line in help_lines())
    assert max(len(line) for line in help_lines()) < 130


@pytest.mark.parametrize("spec, message", [
    ("smoth", "unknown --post step 'smoth' (did you mean 'smooth'?); steps: clean, specks, fill, smooth, "
              "decimate, remesh, watertight, normals"),
    ("blur", "unknown --post step 'blur'; steps: clean,"),
    ("clean:1", "--post step 'clean' takes no arguments (clean), got 1"),
    ("smooth:taubin:1:2", "--post step 'smooth' takes at most 2 argument(s) (smooth[:taubin|laplacian[:N]]), got 3"),
    ("decimate", "--post step 'decimate' needs its target (decimate:N|R)"),
    ("decimate:", "--post step 'decimate' needs its target"),
    ("decimate:1.5", "--post step 'decimate': target must be a face count >= 4 or a ratio of faces to keep in (0, 1)"),
    ("decimate:2", "target must be a face count >= 4"),
    ("decimate:0", "target must be a face count >= 4"),
    ("decimate:1e12", "--post step 'decimate': target must be in [4, 10,000,000], got 1000000000000 (set "
                      "LIFT3D_MAX_MESH_FACES"),
    ("decimate:many", "target must be a number, got 'many'"),
    ("smooth:tau", "--post step 'smooth': method must be one of taubin, laplacian, got 'tau'"),
    ("smooth:taubin:ten", "--post step 'smooth': iterations must be an integer, got 'ten'"),
    ("smooth:taubin:2.5", "iterations must be an integer, got '2.5'"),
    ("smooth:laplacian:-1", "--post step 'smooth': iterations must be in [0, 1,000], got -1"),
    ("smooth:taubin:100000", "iterations must be in [0, 1,000], got 100000"),
    ("specks:1", "--post step 'specks': fraction must be in [0, 1), got 1.0"),
    ("fill:0", "--post step 'fill': radius must be a positive number, got '0'"),
    ("remesh:-1", "--post step 'remesh': edge_length must be a positive number, got '-1'"),
    ("remesh:nan", "edge_length must be a positive number, got 'nan'"),
    ("remesh:0.1:0", "--post step 'remesh': iterations must be in [1, 100], got 0"),
    ("watertight:2", "--post step 'watertight': res must be in [4, 256], got 2"),
    ("watertight:100000", "res must be in [4, 256], got 100000"),
    ("fill,,smooth", "--post 'fill,,smooth' has an empty step (steps are separated by single commas)"),
    ("fill," * 70, "at most 64 are allowed"),
])
def test_grammar_errors(spec, message):
    with pytest.raises(InputError) as err:
        parse_post(spec)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_python_argument_errors(box_mesh):
    with pytest.raises(InputError, match="iterations must be an integer, got True"):
        Step("smooth", ("taubin", True))
    with pytest.raises(InputError, match="steps must be Step objects or --post strings, got int"):
        apply_post(box_mesh, [3])
    with pytest.raises(InputError, match=r"expected a triangle mesh \(trimesh.Trimesh\), got PointCloud"):
        apply_post(trimesh.PointCloud(box_mesh.vertices), "clean")


# ---------------------------------------------------------------- bad meshes and huge requests


def _bad_meshes(box_mesh: trimesh.Trimesh, fin: trimesh.Trimesh) -> dict[str, trimesh.Trimesh]:
    nan = box_mesh.copy()
    nan.vertices[0] = np.nan
    flat = trimesh.Trimesh(np.zeros((3, 3)), [[0, 1, 2], [0, 2, 1]], process=False)
    return {"nan": nan, "empty": trimesh.Trimesh(), "degenerate": flat, "non-manifold": fin}


@pytest.mark.parametrize("spec", ["clean", "specks", "fill", "smooth", "smooth:laplacian", "decimate:8",
                                  "remesh:0.2:3", "watertight:16", "normals"])
def test_bad_meshes_repaired_or_refused_in_one_line(box_mesh, fin, spec):
    """Every step on every bad mesh: a finite, non-empty mesh, or one InputError line naming the step."""
    name = spec.split(":")[0]
    for kind, mesh in _bad_meshes(box_mesh, fin).items():
        try:
            out = apply_post(mesh, spec)
        except InputError as exc:
            msg = str(exc)
            assert msg.startswith(f"--post step '{name}") and "\n" not in msg, (kind, msg)
            if kind == "empty":
                assert "mesh is empty" in msg
            elif kind == "nan":
                assert "NaN" in msg and "put 'clean' before this step" in msg
            elif kind == "degenerate":
                assert "degenerate" in msg
            else:
                raise AssertionError(f"{spec} refused a non-manifold mesh: {msg}") from exc
            continue
        assert kind in ("nan", "non-manifold"), (spec, kind)
        assert len(out.faces) > 0 and np.isfinite(out.vertices).all()
        if name in ("fill", "watertight"):
            assert is_closed_manifold(out) or (name, kind) == ("fill", "non-manifold")  # NaN corner dropped, closed
        assert np.array_equal(mesh.faces, _bad_meshes(box_mesh, fin)[kind].faces)  # the input is left alone


def test_huge_requests_refused_fast(smooth_sphere):
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"--post step 'remesh:1e-09': remesh edge length 1e-09 would make about "
                                         r".* faces, over the limit of 10,000,000: use an edge length of at least"):
        apply_post(smooth_sphere, "remesh:1e-9")
    assert time.perf_counter() - start < 1.0


def test_every_step_leaves_its_input_alone():
    mesh = trimesh.creation.icosphere(subdivisions=2, radius=R)
    mesh.invert()  # so that winding repairs have something to flip
    faces, verts = mesh.faces.copy(), mesh.vertices.copy()
    for name in STEPS:
        Step(name, (100,) if name == "decimate" else ())(mesh)
        assert np.array_equal(mesh.faces, faces) and np.array_equal(mesh.vertices, verts), name
