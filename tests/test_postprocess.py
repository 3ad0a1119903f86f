"""Refinement stage: smoothing, decimation, repair, refine() chain, texture baking."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from scipy.spatial import cKDTree

from lift3d.errors import InputError
from lift3d.geometry.voxels import voxel_centers, voxels_to_mesh
from lift3d.postprocess import (
    cleanup,
    decimate,
    fill_holes,
    laplacian_smooth,
    make_watertight,
    refine,
    remove_small_components,
    taubin_smooth,
)

R = 0.35  # radius of the voxelised test sphere


def voxel_sphere(res: int = 32, radius: float = R) -> trimesh.Trimesh:
    """Marching cubes of a solid sphere voxelised at ``res^3``: the staircase mesh the network produces."""
    grid = (np.linalg.norm(voxel_centers(res), axis=-1) < radius).astype(np.float32)
    return voxels_to_mesh(grid)


def radial_error(mesh: trimesh.Trimesh, radius: float = R) -> float:
    """Mean |distance to the origin - radius| of the vertices."""
    return float(np.abs(np.linalg.norm(mesh.vertices, axis=1) - radius).mean())


def chamfer_hausdorff(a: trimesh.Trimesh, b: trimesh.Trimesh, n: int = 20000) -> tuple[float, float]:
    """Symmetric mean nearest-neighbour distance and Hausdorff distance between surface samples."""
    pa, _ = trimesh.sample.sample_surface(a, n, seed=0)
    pb, _ = trimesh.sample.sample_surface(b, n, seed=1)
    dab, _ = cKDTree(pb).query(pa)
    dba, _ = cKDTree(pa).query(pb)
    return float((dab.mean() + dba.mean()) / 2), float(max(dab.max(), dba.max()))


@pytest.fixture(scope="module")
def vsphere() -> trimesh.Trimesh:
    return voxel_sphere()


# ---------------------------------------------------------------- smoothing


def test_taubin_keeps_volume_and_approaches_true_sphere(vsphere):
    true_volume = 4 / 3 * np.pi * R**3
    assert vsphere.volume == pytest.approx(true_volume, rel=0.01)  # marching cubes of a 32^3 sphere
    out = taubin_smooth(vsphere, iterations=10)
    assert np.array_equal(out.faces, vsphere.faces)
    assert out.volume == pytest.approx(vsphere.volume, rel=0.02)
    assert out.volume == pytest.approx(true_volume, rel=0.02)
    # Staircase removed: vertices closer to the true sphere (measured 0.0047 -> 0.0024).
    assert radial_error(out) < 0.6 * radial_error(vsphere)
    # Input untouched.
    assert radial_error(vsphere) > 0.004


def test_taubin_zero_iterations_is_identity_and_bad_params_raise(vsphere):
    assert np.allclose(taubin_smooth(vsphere, iterations=0).vertices, vsphere.vertices)
    with pytest.raises(InputError):
        taubin_smooth(vsphere, lamb=0.5, mu=-0.4)  # |mu| < lamb would shrink
    with pytest.raises(InputError):
        taubin_smooth(vsphere, iterations=-1)
    with pytest.raises(InputError):
        taubin_smooth(trimesh.Trimesh())


def test_laplacian_smooth_keeps_volume(vsphere):
    out = laplacian_smooth(vsphere, iterations=5)
    assert out.volume == pytest.approx(vsphere.volume, rel=0.02)
    assert radial_error(out) < radial_error(vsphere)


# ---------------------------------------------------------------- decimation


def test_decimate_to_target_keeps_shape_and_watertightness(vsphere):
    smooth = taubin_smooth(vsphere, 10)
    out = decimate(smooth, target_faces=1000)
    assert 950 <= len(out.faces) <= 1000
    assert out.is_watertight
    assert out.volume == pytest.approx(smooth.volume, rel=0.02)
    # Noise floor of the sampled distance: the mesh against itself resampled.
    floor, _ = chamfer_hausdorff(smooth, smooth)
    cd, hd = chamfer_hausdorff(smooth, out)
    assert cd < floor + 0.002
    assert hd < 1.0 / 32  # within one voxel of the 32^3 grid


def test_decimate_ratio_and_arguments(vsphere):
    out = decimate(vsphere, ratio=0.5)
    assert len(out.faces) == pytest.approx(len(vsphere.faces) / 2, rel=0.05)
    assert len(decimate(vsphere, target_faces=10**6).faces) == len(vsphere.faces)  # nothing to remove
    for kwargs in ({}, {"target_faces": 100, "ratio": 0.5}, {"ratio": 1.0}, {"target_faces": 2}):
        with pytest.raises(InputError):
            decimate(vsphere, **kwargs)


# ---------------------------------------------------------------- repair


def test_box_with_deleted_faces_becomes_watertight(box_mesh):
    # A whole side removed (two triangles, a quad hole) and, separately, one triangle removed.
    for drop in ([0, 1], [5]):
        keep = np.setdiff1d(np.arange(len(box_mesh.faces)), drop)
        holed = trimesh.Trimesh(box_mesh.vertices, box_mesh.faces[keep], process=True)
        assert not holed.is_watertight
        for fixed in (fill_holes(holed), make_watertight(holed)):
            assert fixed.is_watertight and fixed.is_winding_consistent
            assert fixed.volume == pytest.approx(0.6 * 0.4 * 0.8, rel=1e-6)


def test_large_hole_is_filled_by_open3d_pass(box_mesh):
    fine = box_mesh.subdivide().subdivide()  # 192 faces
    c = fine.triangles_center
    cut = (c[:, 1] > 0.19) & (np.abs(c[:, 0]) < 0.2)  # a patch of the top face: a 12-edge hole
    holed = fine.submesh([np.nonzero(~cut)[0]], append=True)
    assert not holed.is_watertight and cut.sum() > 4
    fixed = fill_holes(holed)
    assert fixed.is_watertight and fixed.is_winding_consistent
    assert fixed.volume == pytest.approx(0.192, rel=1e-4)
    assert len(fill_holes(holed, max_hole_radius=1e-3).faces) < len(fixed.faces)  # too small a radius: left open


def test_make_watertight_falls_back_to_voxel_remesh(box_mesh):
    # A fin triangle on one box edge makes that edge non-manifold: no hole filling can close it.
    e = box_mesh.edges_unique[0]
    tip = box_mesh.vertices[e].mean(axis=0) * 1.5
    fin = trimesh.Trimesh(np.vstack([box_mesh.vertices, tip]), np.vstack([box_mesh.faces, [[e[0], e[1], 8]]]),
                          process=False)
    assert not fin.is_watertight
    out = make_watertight(fin, res=48)
    assert out.is_watertight and out.volume > 0
    assert out.volume == pytest.approx(0.192, rel=0.02)  # the box (+ a thin voxelised fin)
    assert np.allclose(out.bounds[1], fin.bounds[1], atol=0.8 / 48)  # kept in the input's frame, within a cell


def test_cleanup_merges_and_drops_bad_faces(box_mesh):
    soup = trimesh.Trimesh(box_mesh.triangles.reshape(-1, 3), np.arange(36).reshape(12, 3), process=False)
    faces = np.vstack([soup.faces, soup.faces[:1], [[0, 0, 1]]])  # + a duplicate face and a degenerate one
    faces[3] = faces[3, ::-1]  # one face wound the wrong way
    messy = trimesh.Trimesh(soup.vertices, faces, process=False)
    out = cleanup(messy)
    assert len(out.vertices) == 8 and len(out.faces) == 12
    assert out.is_watertight and out.is_winding_consistent and out.volume == pytest.approx(0.192)


def test_remove_small_components_drops_specks(vsphere):
    speck = trimesh.creation.box(extents=(0.02, 0.02, 0.02))
    speck.apply_translation([0.45, 0.45, 0.45])
    both = trimesh.util.concatenate([vsphere, speck])
    out = remove_small_components(both, min_fraction=0.01)
    assert len(out.faces) == len(vsphere.faces)
    assert len(remove_small_components(both, min_fraction=0.0).faces) == len(both.faces)


def test_refine_chain(vsphere):
    speck = trimesh.creation.icosphere(subdivisions=1, radius=0.01)
    speck.apply_translation([0.45, 0.45, 0.45])
    keep = np.nonzero(vsphere.triangles_center[:, 1] < 0.3)[0]  # cap cut off: a hole
    broken = trimesh.util.concatenate([vsphere.submesh([keep], append=True), speck])
    out = refine(broken, smooth_iters=10, target_faces=2000)
    assert out.is_watertight and len(out.split(only_watertight=False)) == 1
    assert len(out.faces) <= 2000
    assert out.volume == pytest.approx(vsphere.volume, rel=0.03)
