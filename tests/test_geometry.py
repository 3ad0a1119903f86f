import numpy as np
import pytest
import trimesh

from lift3d.errors import InputError
from lift3d.geometry.cameras import Camera, depth_to_points, look_at, orbit_camera, project, unproject
from lift3d.geometry.carving import visual_hull
from lift3d.geometry.normalize import normalize_mesh
from lift3d.geometry.sampling import sample_surface
from lift3d.geometry.surface import points_to_mesh
from lift3d.geometry.voxels import mesh_to_voxels, points_inside, voxel_centers, voxels_to_mesh


def test_look_at_is_a_rotation_and_centres_the_target():
    R, t = look_at(np.array([1.0, 2.0, 3.0]))
    assert np.allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.isclose(np.linalg.det(R), 1.0)
    cam = Camera(np.eye(3), R, t, 10, 10)
    assert np.allclose(cam.center, [1, 2, 3])
    xc = R @ np.zeros(3) + t  # the origin is straight ahead at distance |eye|
    assert np.allclose(xc[:2], 0, atol=1e-12) and np.isclose(xc[2], np.sqrt(14))


def test_project_unproject_round_trip(rng):
    cam = orbit_camera(30, 20, 2.0, 64, 48)
    pts = rng.uniform(-0.5, 0.5, (100, 3))
    uv, z = project(pts, cam)
    assert np.allclose(unproject(uv, z, cam), pts, atol=1e-9)
    assert np.allclose(project(np.zeros((1, 3)), cam)[0], [[32, 24]])  # origin projects to the image centre


def test_depth_to_points_of_a_plane():
    cam = orbit_camera(0, 0, 2.0, 32, 32)  # looking at the origin from +Z: the plane z = 0 is 2 units away
    depth = np.full((32, 32), 2.0)
    pts = depth_to_points(depth, cam)
    assert pts.shape == (1024, 3)
    assert np.allclose(pts[:, 2], 0.0, atol=1e-6)
    depth[:5] = 0  # background rows give no points
    assert len(depth_to_points(depth, cam)) == 1024 - 5 * 32


def test_normalize_mesh_fits_unit_cube(box_mesh):
    m = box_mesh.copy()
    m.apply_scale(7.0)
    m.apply_translation([3, -2, 10])
    n = normalize_mesh(m)
    assert np.isclose(n.extents.max(), 1.0)
    assert np.allclose(n.bounds.mean(axis=0), 0, atol=1e-9)
    up = normalize_mesh(m, up="+z")  # z-extent (0.8) becomes the y-extent
    assert np.isclose(up.extents[1], 1.0) and np.isclose(up.extents[2], 0.4 / 0.8 * 1.0)


def test_normalize_rejects_nan():
    m = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [np.nan, 1, 0]], [[0, 1, 2]], process=False)
    with pytest.raises(InputError):
        normalize_mesh(m)


def test_voxelised_sphere_volume_within_5_percent(sphere):
    true_volume = 4 / 3 * np.pi * 0.4**3
    grid = mesh_to_voxels(sphere, 64)
    assert abs(grid.mean() - true_volume) / true_volume < 0.05
    mesh = voxels_to_mesh(grid.astype(np.float32))
    assert mesh.is_watertight
    assert abs(mesh.volume - true_volume) / true_volume < 0.05


def test_voxel_grid_convention():
    c = voxel_centers(4)
    assert np.allclose(c[0, 0, 0], [-0.375] * 3) and np.allclose(c[3, 1, 2], [0.375, -0.125, 0.125])
    m = trimesh.creation.box(extents=(0.2, 0.2, 0.2))
    m.apply_translation([0.3, 0, 0])  # +x half only
    g = mesh_to_voxels(m, 8)
    assert g[4:].sum() > 0 and g[:4].sum() == 0


def test_thin_parts_survive_voxelisation():
    rod = trimesh.creation.box(extents=(0.01, 0.8, 0.01))  # thinner than one 32^3 cell
    assert mesh_to_voxels(rod, 32).sum() >= 25
    # the rod straddles the cell boundaries at x = 0 and z = 0: the surface convention keeps every touched cell
    assert mesh_to_voxels(rod, 32, mode="surface").sum() == 4 * 26


def test_surface_voxels_cover_the_solid_tightly(sphere):
    """Surface mode (binvox convention) = every cell the solid touches: a superset of tight mode, one shell thicker."""
    tight, surf = mesh_to_voxels(sphere, 32), mesh_to_voxels(sphere, 32, mode="surface")
    assert np.all(surf[tight]) and surf.sum() > tight.sum()
    cell = 1 / 32
    true_volume, area = 4 / 3 * np.pi * 0.4**3, 4 * np.pi * 0.4**2
    assert true_volume < surf.mean() < true_volume + area * cell  # at most one cell of shell outside
    pts, _ = sample_surface(sphere, 5000, seed=3)
    idx = np.floor((pts + 0.5) * 32).astype(int)
    assert surf[idx[:, 0], idx[:, 1], idx[:, 2]].all()  # every cell the surface passes through
    with pytest.raises(InputError, match="voxel mode"):
        mesh_to_voxels(sphere, 8, mode="binvox")


def test_sample_surface_on_sphere(sphere):
    pts, normals = sample_surface(sphere, 2000, seed=1)
    assert pts.shape == (2000, 3)
    assert np.allclose(np.linalg.norm(pts, axis=1), 0.4, atol=2e-3)
    assert np.mean(np.sum(normals * pts / 0.4, axis=1)) > 0.99  # outward normals


def test_poisson_of_sphere_samples_is_a_sphere(sphere):
    pts, normals = sample_surface(sphere, 5000, seed=0)
    mesh = points_to_mesh(pts, normals, depth=6)
    r = np.linalg.norm(mesh.vertices, axis=1)
    assert abs(np.median(r) - 0.4) < 0.01


def test_visual_hull_contains_the_object(sphere):
    from lift3d.data.render import render_views, turntable_cameras

    views = render_views(sphere, turntable_cameras(4, 48), 0)
    hull = visual_hull([v.mask for v in views], [v.camera for v in views], res=16)
    truth = points_inside(sphere, voxel_centers(16).reshape(-1, 3)).reshape(16, 16, 16)  # cells whose centre is in
    occupied = hull >= 0.5
    assert occupied[truth].mean() > 0.97  # carving keeps the object
    assert occupied.sum() < 1.6 * truth.sum()  # and removes most of the empty space


def test_closed_cavities_are_filled_open_ones_are_not():
    outer = trimesh.creation.box(extents=(0.8, 0.8, 0.8))
    inner = trimesh.creation.box(extents=(0.5, 0.5, 0.5))
    hollow = trimesh.boolean.difference([outer, inner], engine="manifold")  # a closed void inside
    filled = mesh_to_voxels(hollow, 32)
    assert filled[16, 16, 16] and abs(filled.mean() - 0.8**3) < 0.03
    assert not mesh_to_voxels(hollow, 32, fill_interior=False)[16, 16, 16]
    cup = trimesh.boolean.difference([outer, inner.apply_translation([0, 0.3, 0])], engine="manifold")  # open top
    assert not mesh_to_voxels(cup, 32)[16, 20, 16]


def test_poisson_without_normals_is_a_closed_sphere(sphere):
    """Normals are estimated and oriented outwards; the closed cloud gives a watertight mesh of the right volume."""
    from lift3d.metrics import chamfer_distance

    pts, _ = sample_surface(sphere, 3000, seed=0)
    mesh = points_to_mesh(pts, depth=6)
    assert mesh.is_watertight
    assert mesh.volume == pytest.approx(4 / 3 * np.pi * 0.4**3, rel=0.02)  # positive: faces point outwards
    assert np.abs(np.linalg.norm(mesh.vertices, axis=1) - 0.4).max() < 0.005
    samples, _ = sample_surface(mesh, 3000, seed=1)
    assert chamfer_distance(samples, pts)["l1"] < 0.015  # ~ the point spacing (0.013)


def test_poisson_trims_surface_invented_far_from_an_open_cloud(sphere):
    pts, normals = sample_surface(sphere, 3000, seed=0)
    top = pts[:, 1] > 0  # an open hemisphere: Poisson closes it with a blob below
    trimmed = points_to_mesh(pts[top], normals[top], depth=6)
    kept = points_to_mesh(pts[top], normals[top], depth=6, trim_distance=0)
    assert trimmed.vertices[:, 1].min() > -0.06 and kept.vertices[:, 1].min() < -0.15
    assert not trimmed.is_watertight


def test_ball_pivoting_interpolates_the_points(sphere):
    from scipy.spatial import cKDTree

    pts, normals = sample_surface(sphere, 3000, seed=0)
    mesh = points_to_mesh(pts, normals, method="ball_pivoting")
    assert len(mesh.faces) > 4000
    assert cKDTree(pts).query(mesh.vertices)[0].max() < 1e-6  # every vertex is an input point
    assert mesh.area == pytest.approx(4 * np.pi * 0.4**2, rel=0.05)


def test_surface_bad_input():
    with pytest.raises(InputError, match="at least 10"):
        points_to_mesh(np.zeros((5, 3)))
    with pytest.raises(InputError, match="unknown surface method"):
        points_to_mesh(np.random.default_rng(0).random((50, 3)), method="marching")
