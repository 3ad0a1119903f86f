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


# ---------------------------------------------------------------- texture

SIDE_COLOURS = {  # outward axis -> RGB of that side of the box
    (1, 0, 0): (1.0, 0.0, 0.0), (-1, 0, 0): (0.0, 1.0, 1.0),
    (0, 1, 0): (0.0, 1.0, 0.0), (0, -1, 0): (1.0, 0.0, 1.0),
    (0, 0, 1): (0.0, 0.0, 1.0), (0, 0, -1): (1.0, 1.0, 0.0),
}


def side_colour(normals: np.ndarray) -> np.ndarray:
    """Expected colour ``(N, 3)`` for outward unit normals ``(N, 3)`` of a box."""
    axis = np.argmax(np.abs(normals), axis=1)
    key = np.zeros((len(normals), 3), int)
    key[np.arange(len(normals)), axis] = np.sign(normals[np.arange(len(normals)), axis]).astype(int)
    return np.array([SIDE_COLOURS[tuple(k)] for k in key])


@pytest.fixture(scope="module")
def box_views():
    """A 0.6 x 0.4 x 0.8 box seen by 5 cameras (4 from above, 1 from below); ray-cast photos (64 px, uint8)
    where every pixel shows the colour of the box side it hits, white background."""
    import open3d as o3d

    from lift3d.geometry.cameras import orbit_camera, pixel_rays
    from lift3d.geometry.voxels import raycasting_scene

    box = trimesh.creation.box(extents=(0.6, 0.4, 0.8))
    scene = raycasting_scene(box)
    cams = [orbit_camera(az, el, 2.2, 64, 64) for az, el in [(45, 30), (135, 30), (225, 30), (315, 30), (20, -60)]]
    images = []
    for cam in cams:
        o, d = pixel_rays(cam)
        ids = scene.cast_rays(o3d.core.Tensor(np.concatenate([o, d], -1).reshape(-1, 6).astype(np.float32)))
        ids = ids["primitive_ids"].numpy().astype(np.int64)
        hit = ids != o3d.t.geometry.RaycastingScene.INVALID_ID
        img = np.ones((len(ids), 3))
        img[hit] = side_colour(box.face_normals[ids[hit]])
        images.append(np.round(img.reshape(64, 64, 3) * 255).astype(np.uint8))
    return box, images, cams


def test_bake_texture_reproduces_side_colours(box_views, tmp_path):
    from lift3d.postprocess import bake_texture

    box, images, cams = box_views
    fine = box.subdivide()  # 48 faces, so the atlas has room to sample each face's interior
    baked = bake_texture(fine, images, cams, texture_size=128)
    assert isinstance(baked.visual, trimesh.visual.TextureVisuals)
    image = baked.visual.material.baseColorTexture
    assert image.size == (128, 128)
    assert len(baked.faces) == len(fine.faces)
    # The texel at each face's centroid in UV space has its side's colour.
    uv_centres = baked.visual.uv[baked.faces].mean(axis=1)
    got = trimesh.visual.uv_to_color(uv_centres, image)[:, :3] / 255.0
    assert np.abs(got - side_colour(fine.face_normals)).max() < 0.05
    # uint8 and float photos give the same texture.
    baked_f = bake_texture(fine, [im / 255.0 for im in images], cams, texture_size=128)
    assert np.array_equal(np.asarray(baked_f.visual.material.baseColorTexture), np.asarray(image))
    # GLB export keeps the texture.
    path = tmp_path / "box.glb"
    baked.export(path)
    loaded = trimesh.load(path, force="mesh")
    assert isinstance(loaded.visual, trimesh.visual.TextureVisuals)
    assert loaded.visual.uv.shape == (len(loaded.vertices), 2)
    assert loaded.visual.material.baseColorTexture.size == (128, 128)
    assert loaded.volume == pytest.approx(0.192, rel=1e-4)


def test_vertex_colours_and_unseen_fill(box_views):
    from lift3d.postprocess import vertex_colors_from_views

    box, images, cams = box_views
    fine = box.subdivide().subdivide()
    interior = np.isclose(np.abs(fine.vertex_normals).max(axis=1), 1.0)  # vertices inside a side
    out = vertex_colors_from_views(fine, images, cams)
    rgb = out.visual.vertex_colors[:, :3] / 255.0
    assert np.abs(rgb[interior] - side_colour(fine.vertex_normals[interior])).max() < 0.05
    # Only the 4 cameras from above: no view sees the bottom. The box is mirror-symmetric about y = 0, so the
    # bottom takes the top's colour; without symmetry it is interpolated from the neighbouring sides.
    out = vertex_colors_from_views(fine, images[:4], cams[:4])
    bottom = interior & (fine.vertex_normals[:, 1] < -0.99)
    rgb = out.visual.vertex_colors[bottom, :3] / 255.0
    assert np.abs(rgb - np.array(SIDE_COLOURS[(0, 1, 0)])).max() < 0.05
    assert out.metadata["texture"]["planes"] >= 1 and out.metadata["texture"]["mirrored"] > 0.1
    out = vertex_colors_from_views(fine, images[:4], cams[:4], symmetry=False)
    rgb = out.visual.vertex_colors[bottom, :3] / 255.0
    side_rgbs = np.array([c for k, c in SIDE_COLOURS.items() if k[1] == 0])
    centre = np.abs(fine.vertices[bottom][:, [0, 2]]).max(axis=1) < 0.05  # equally far from all four sides
    assert centre.any() and np.abs(rgb[centre] - side_rgbs.mean(axis=0)).max() < 0.15
    assert out.metadata["texture"]["mirrored"] == 0 and out.metadata["texture"]["interpolated"] > 0.1


def test_texture_bad_input(box_views):
    from lift3d.postprocess import bake_texture, vertex_colors_from_views

    box, images, cams = box_views
    with pytest.raises(InputError, match="one camera per image"):
        bake_texture(box, images[:2], cams)
    with pytest.raises(InputError, match="camera expects"):
        bake_texture(box, [im[:32] for im in images], cams)
    with pytest.raises(InputError, match="no camera sees"):
        vertex_colors_from_views(box, images, cams, masks=[np.zeros((64, 64), bool)] * len(images))
