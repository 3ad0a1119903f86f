"""Property tests (hypothesis) of geometry, metrics and file formats: conversions keep bounds and counts, metrics are
symmetric, zero / one on identical inputs and within their ranges, F-score is monotone in tau, and every file format
gives back what was written. Examples are few and small so the file runs in seconds."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.ndimage import binary_dilation

from lift3d.geometry.normalize import normalize_mesh, normalize_points
from lift3d.geometry.sampling import sample_surface
from lift3d.geometry.voxels import mesh_to_voxels, voxels_to_mesh
from lift3d.io import read_any, write_any
from lift3d.io.voxels import VoxelGrid, load_voxels, save_voxels
from lift3d.metrics import chamfer_distance, fscore, voxel_iou

FAST = settings(max_examples=20, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=6, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

coords = st.floats(-10.0, 10.0, allow_nan=False, width=32)
point_sets = st.integers(1, 60).flatmap(lambda n: arrays(np.float64, (n, 3), elements=coords))
grids = st.integers(2, 8).flatmap(lambda d: arrays(np.bool_, (d, d, d)))


@st.composite
def boxes(draw) -> trimesh.Trimesh:
    """An axis-aligned box of random extents (0.05 .. 5 per axis) at a random place."""
    ext = [draw(st.floats(0.05, 5.0)) for _ in range(3)]
    mesh = trimesh.creation.box(extents=ext)
    mesh.apply_translation([draw(st.floats(-20, 20)) for _ in range(3)])
    return mesh


@st.composite
def solids(draw, res: int = 12) -> np.ndarray:
    """A bool ``(res, res, res)`` grid: the union of 1-3 blocks, each at least 3 cells on a side."""
    grid = np.zeros((res, res, res), bool)
    for _ in range(draw(st.integers(1, 3))):
        lo = [draw(st.integers(1, res - 4)) for _ in range(3)]
        hi = [draw(st.integers(a + 3, res - 1)) for a in lo]
        grid[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = True
    return grid


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("properties")


# ------------------------------------------------------------------------------------------ conversions
@SLOW
@given(solids())
def test_voxels_to_mesh_to_voxels_keeps_the_solid(grid: np.ndarray) -> None:
    res = grid.shape[0]
    mesh = voxels_to_mesh(grid.astype(np.float32))
    assert mesh.is_watertight
    idx = np.argwhere(grid)
    lo, hi = -0.5 + idx.min(0) / res, -0.5 + (idx.max(0) + 1) / res
    assert np.all(mesh.bounds[0] >= lo - 1e-6) and np.all(mesh.bounds[1] <= hi + 1e-6)  # inside the cells
    assert mesh.volume == pytest.approx(grid.sum() / res**3, rel=0.25)
    back = mesh_to_voxels(mesh, res)
    assert back.shape == grid.shape
    assert voxel_iou(back, grid) >= 0.75
    assert not (back & ~binary_dilation(grid)).any()  # nothing appears more than one cell away


@FAST
@given(boxes(), st.integers(1, 2000), st.integers(0, 2**31 - 1))
def test_surface_samples_count_and_bounds(mesh: trimesh.Trimesh, n: int, seed: int) -> None:
    pts, normals = sample_surface(mesh, n, seed=seed)
    assert pts.shape == (n, 3) and normals.shape == (n, 3)
    slack = 1e-5 * max(1.0, float(np.abs(mesh.bounds).max()))
    assert np.all(pts >= mesh.bounds[0] - slack) and np.all(pts <= mesh.bounds[1] + slack)
    assert np.allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(sample_surface(mesh, n, seed=seed)[0], pts)  # same seed, same samples


@FAST
@given(point_sets, st.floats(0.1, 100.0), arrays(np.float64, 3, elements=st.floats(-50, 50)))
def test_normalised_points_fill_the_unit_cube(pts: np.ndarray, scale: float, shift: np.ndarray) -> None:
    assume(np.ptp(pts, axis=0).max() > 1e-3)
    out = normalize_points(pts)
    assert out.shape == pts.shape
    assert np.all(out >= -0.5 - 1e-6) and np.all(out <= 0.5 + 1e-6)
    assert np.ptp(out, axis=0).max() == pytest.approx(1.0, abs=1e-5)
    assert np.allclose(out.min(0) + out.max(0), 0.0, atol=1e-5)  # the bounding box is centred
    assert np.allclose(normalize_points(out), out, atol=1e-5)  # idempotent
    assert np.allclose(normalize_points(pts * scale + shift), out, atol=1e-4)  # blind to placement and size


@FAST
@given(boxes(), st.sampled_from(["+y", "+z", "-x"]))
def test_normalised_mesh_keeps_topology_and_fits(mesh: trimesh.Trimesh, up: str) -> None:
    out = normalize_mesh(mesh, up=up)
    assert len(out.vertices) == len(mesh.vertices) and np.array_equal(out.faces, mesh.faces)
    assert np.all(out.bounds >= -0.5 - 1e-9) and np.all(out.bounds <= 0.5 + 1e-9)
    assert np.ptp(out.bounds, axis=0).max() == pytest.approx(1.0)
    assert out.is_watertight and out.volume > 0


# ---------------------------------------------------------------------------------------------- metrics
@FAST
@given(point_sets, point_sets)
def test_chamfer_is_symmetric_and_non_negative(a: np.ndarray, b: np.ndarray) -> None:
    ab, ba = chamfer_distance(a, b), chamfer_distance(b, a)
    assert ab["l1"] == pytest.approx(ba["l1"]) and ab["l2"] == pytest.approx(ba["l2"])
    assert ab["accuracy"] == pytest.approx(ba["completeness"])
    assert min(ab.values()) >= 0.0


@FAST
@given(point_sets, st.randoms(use_true_random=False))
def test_chamfer_of_a_set_with_itself_is_zero(a: np.ndarray, rnd) -> None:
    perm = list(range(len(a)))
    rnd.shuffle(perm)
    assert chamfer_distance(a, a[perm]) == {"l1": 0.0, "l2": 0.0, "accuracy": 0.0, "completeness": 0.0}


@FAST
@given(point_sets, point_sets, st.floats(0.0, 5.0), st.floats(0.0, 5.0))
def test_fscore_in_range_and_monotone_in_tau(a: np.ndarray, b: np.ndarray, t1: float, t2: float) -> None:
    lo, hi = sorted((t1, t2))
    f_lo, f_hi = fscore(a, b, lo), fscore(a, b, hi)
    assert 0.0 <= f_lo <= f_hi + 1e-12 <= 1.0 + 1e-12
    assert fscore(a, a, lo) == 1.0
    assert fscore(a, b, hi) == pytest.approx(fscore(b, a, hi))


@FAST
@given(grids, st.data())
def test_iou_in_range_one_on_identical_and_symmetric(g: np.ndarray, data) -> None:
    h = data.draw(arrays(np.bool_, g.shape))
    iou = voxel_iou(g, h)
    assert 0.0 <= iou <= 1.0
    assert iou == pytest.approx(voxel_iou(h, g))
    assert voxel_iou(g, g) == 1.0
    assert (iou == 1.0) == bool(np.array_equal(g, h))
    import torch

    assert float(voxel_iou(torch.from_numpy(g.astype(np.float32)), h)) == pytest.approx(iou)


# ----------------------------------------------------------------------------------- file round trips
@FAST
@given(grids, arrays(np.float64, 3, elements=st.floats(-10, 10)), st.floats(0.01, 100.0),
       st.sampled_from([".binvox", ".npz"]))
def test_voxel_files_round_trip(folder, g: np.ndarray, translate: np.ndarray, scale: float, ext: str) -> None:
    path = folder / f"grid{ext}"
    save_voxels(path, VoxelGrid(g, translate, scale))
    back = load_voxels(path)
    assert np.array_equal(back.occupancy, g)
    assert np.allclose(back.translate, translate, rtol=1e-5, atol=1e-5)  # binvox keeps 6 significant digits
    assert back.scale == pytest.approx(scale, rel=1e-5)


@st.composite
def clouds(draw) -> tuple[np.ndarray, np.ndarray | None]:
    pts = draw(st.integers(1, 40).flatmap(lambda n: arrays(np.float64, (n, 3), elements=coords)))
    if not draw(st.booleans()):
        return pts, None
    normals = np.random.default_rng(draw(st.integers(0, 1000))).normal(size=pts.shape)
    return pts, normals / np.linalg.norm(normals, axis=1, keepdims=True)


@FAST
@given(clouds(), st.sampled_from([".xyz", ".ply", ".pcd"]))
def test_point_files_round_trip(folder, cloud, ext: str) -> None:
    pts, normals = cloud
    path = folder / f"cloud{ext}"
    write_any((pts, normals, None), path)
    kind, (back, back_normals, _) = read_any(path)
    assert kind == "points" and back.shape == pts.shape
    assert np.allclose(back, pts, rtol=1e-6, atol=1e-5)
    if normals is not None:
        assert back_normals is not None and np.allclose(back_normals, normals, atol=1e-5)


@FAST
@given(boxes(), st.sampled_from([".obj", ".ply", ".stl", ".off", ".glb", ".gltf"]))
def test_mesh_files_round_trip(folder, mesh: trimesh.Trimesh, ext: str) -> None:
    path = folder / f"mesh{ext}"
    write_any(mesh, path)
    kind, back = read_any(path)
    assert kind == "mesh"
    assert len(back.vertices) == len(mesh.vertices) and len(back.faces) == len(mesh.faces)
    assert np.allclose(back.bounds, mesh.bounds, rtol=1e-5, atol=1e-5)
    assert back.is_watertight and back.volume == pytest.approx(mesh.volume, rel=1e-4)
