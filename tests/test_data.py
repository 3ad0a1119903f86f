"""Renderer, dataset writer and reader on a tiny real dataset."""

import json
import shutil

import numpy as np
import open3d as o3d
import pytest

from lift3d.data.dataset import ShapeDataset
from lift3d.data.generate import generate_dataset
from lift3d.data.render import render_views, turntable_cameras
from lift3d.data.shapes import make_shape
from lift3d.errors import DatasetError
from lift3d.geometry.cameras import Camera, depth_to_points
from lift3d.geometry.voxels import mesh_to_voxels, raycasting_scene


def _surface_distance(mesh, pts) -> np.ndarray:
    scene = raycasting_scene(mesh)
    return scene.compute_distance(o3d.core.Tensor(pts.astype(np.float32))).numpy()


def test_depth_back_projects_onto_the_surface(tiny_dataset):
    ds = ShapeDataset(tiny_dataset, "all", targets=())
    import trimesh

    for i in (0, 5):
        d = ds.shape_dir(i)
        mesh = trimesh.load(d / "mesh.ply", force="mesh")
        depth = np.load(d / "geometry.npz")["depth"]
        cams = [Camera.from_dict(c) for c in json.loads((d / "cameras.json").read_text())["views"]]
        for v, cam in enumerate(cams):
            pts = depth_to_points(depth[v], cam)
            assert len(pts) > 20
            assert _surface_distance(mesh, pts).mean() < 0.01  # object size is 1


def test_mask_matches_projected_silhouette(sphere):
    views = render_views(sphere, turntable_cameras(2, 64), 0)
    for v in views:
        r = np.hypot(*(np.argwhere(v.mask) + 0.5 - 32).T)
        focal = v.camera.K[0, 0]
        dist = np.linalg.norm(v.camera.center)
        expected = focal * 0.4 / np.sqrt(dist**2 - 0.4**2)  # image radius of a sphere's silhouette
        assert abs(r.max() - expected) < 1.5
        # the alpha channel (2x2 supersampled coverage) agrees with the centre-ray mask except at edge pixels
        assert np.mean(v.mask != (v.rgba[..., 3] >= 128)) < 0.01


def test_voxel_ground_truth_volume(sphere):
    true_volume = 4 / 3 * np.pi * 0.4**3
    assert abs(mesh_to_voxels(sphere, 32).mean() - true_volume) / true_volume < 0.05
    chunky = make_shape("bottle", 3)
    assert abs(mesh_to_voxels(chunky, 64).mean() - chunky.volume) / chunky.volume < 0.05


def test_splits_are_by_shape(tiny_dataset):
    m = json.loads((tiny_dataset / "manifest.json").read_text())
    ids = [set(m["splits"][s]) for s in ("train", "val", "test")]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    assert sum(map(len, ids)) == len(m["shapes"]) == 12
    for s in m["shapes"]:
        assert s["id"] in m["splits"][s["split"]]


def test_generation_is_deterministic_and_resumable(tmp_path, tiny_dataset):
    out = tmp_path / "again"
    generate_dataset(out, ["chair", "table", "bottle", "car"], 3, 3, 32, seed=0, workers=2, points=2048,
                     occ_samples=1024, quiet=True)
    for f in ("gt.npz", "geometry.npz", "view_01.png", "cameras.json"):
        assert (out / "shapes/chair_0001" / f).read_bytes() == (tiny_dataset / "shapes/chair_0001" / f).read_bytes()
    victim = out / "shapes/car_0002"
    stamp = (out / "shapes/chair_0000/gt.npz").stat().st_mtime_ns
    shutil.rmtree(victim)
    generate_dataset(out, ["chair", "table", "bottle", "car"], 3, 3, 32, seed=0, workers=1, points=2048,
                     occ_samples=1024, quiet=True)
    assert (victim / "gt.npz").read_bytes() == (tiny_dataset / "shapes/car_0002/gt.npz").read_bytes()
    assert (out / "shapes/chair_0000/gt.npz").stat().st_mtime_ns == stamp  # finished shapes are skipped


def test_dataset_items(tiny_dataset):
    ds = ShapeDataset(tiny_dataset, "train", views=2, targets=("voxels32", "points", "occupancy"), image_size=24,
                      augment=True)
    item = ds[0]
    assert item["images"].shape == (2, 3, 24, 24) and item["images"].dtype == np.float32
    assert 0.0 <= item["images"].min() and item["images"].max() <= 1.0
    assert item["masks"].shape == (2, 1, 24, 24)
    assert item["voxels32"].shape == (32, 32, 32) and item["voxels32"].sum() > 0
    assert item["points"].shape == (2048, 3) and item["occ_points"].shape == (1024, 3)
    assert item["category"] in ds.categories
    ds.set_num_views(3)
    assert ds[1]["images"].shape[0] == 3
    ev = ShapeDataset(tiny_dataset, "test", views=2, targets=())
    assert np.array_equal(ev[0]["images"], ev[0]["images"])  # evaluation is deterministic


def test_corrupt_member_names_the_file(tmp_path, tiny_dataset):
    root = tmp_path / "copy"
    shutil.copytree(tiny_dataset, root)
    target = root / "shapes/chair_0000/gt.npz"
    target.write_bytes(target.read_bytes()[:100])
    ds = ShapeDataset(root, "all", targets=("voxels32",))
    idx = [s["id"] for s in ds.shapes].index("chair_0000")
    with pytest.raises(DatasetError, match="chair_0000/gt.npz"):
        ds[idx]
    (root / "shapes/chair_0000/view_00.png").write_bytes(b"nope")
    with pytest.raises(DatasetError, match="view_00.png"):
        ds[idx]


def test_mesh_folder_with_a_bad_file(tmp_path, box_mesh, sphere):
    src = tmp_path / "meshes"
    (src / "boxes").mkdir(parents=True)
    (src / "balls").mkdir()
    box_mesh.export(src / "boxes/a.obj")
    sphere.export(src / "balls/b.stl")
    (src / "balls/broken.off").write_text("OFF\n3 1 0\n0 0 0\n")
    with pytest.raises(DatasetError, match="broken.off"):
        generate_dataset(tmp_path / "ds", views=2, image_size=24, workers=1, mesh_source=src, quiet=True)
    with pytest.warns(UserWarning, match="skipped"):
        m = generate_dataset(tmp_path / "ds", views=2, image_size=24, workers=1, mesh_source=src, quiet=True,
                             skip_bad=True)
    assert sorted(m["categories"]) == ["balls", "boxes"] and len(m["shapes"]) == 2
