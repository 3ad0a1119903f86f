"""Dataset writer, reader and CLI (lift3d.data.generate / dataset / sheet, ``lift3d data``). Complements test_data.py.

Uses the session-wide ``tiny_dataset`` fixture (4 families x 3 shapes x 3 views at 32 px, 2048 points,
1024 occupancy samples).
"""

import json
import shutil

import numpy as np
import pytest
import torch
import trimesh
from PIL import Image

import lift3d.data.generate as gen
from conftest import run_cli as run
from lift3d.data.dataset import ShapeDataset, collate, read_manifest
from lift3d.data.generate import generate_dataset, split_ids
from lift3d.data.preprocess import prepare_image
from lift3d.data.sheet import contact_sheet
from lift3d.errors import DatasetError, InputError
from lift3d.geometry.voxels import raycasting_scene

# ---------------------------------------------------------------- manifest and splits


def test_manifest_records_settings_and_every_shape(tiny_dataset):
    m = read_manifest(tiny_dataset)
    assert (m["format"], m["version"], m["image_size"], m["views"]) == ("lift3d-dataset", 1, 32, 3)
    assert m["voxel_res"] == [32] and m["points"] == 2048 and m["seed"] == 0
    assert m["categories"] == ["chair", "table", "bottle", "car"]
    assert [s["id"] for s in m["shapes"]] == [f"{c}_{i:04d}" for c in m["categories"] for i in range(3)]
    for cat in m["categories"]:  # 3 shapes per family -> one per split (80/10/10 with at least one val/test)
        assert sorted(s["split"] for s in m["shapes"] if s["category"] == cat) == ["test", "train", "val"]
    assert sorted(p.name for p in (tiny_dataset / "shapes").iterdir()) == sorted(s["id"] for s in m["shapes"])


def test_split_ids_fractions_and_seed():
    ids = {"a": [f"a{i}" for i in range(10)], "b": ["b0", "b1"], "c": [f"c{i}" for i in range(20)]}
    s = split_ids(ids, (0.8, 0.1, 0.1), seed=0)
    count = {k: {c: sum(x.startswith(c) for x in v) for c in "abc"} for k, v in s.items()}
    # 10 -> 8/1/1, 2 -> 2/0/0 (too few for val/test), 20 -> 16/2/2
    assert count == {"train": {"a": 8, "b": 2, "c": 16}, "val": {"a": 1, "b": 0, "c": 2},
                     "test": {"a": 1, "b": 0, "c": 2}}
    assert s == split_ids(ids, (0.8, 0.1, 0.1), seed=0)
    assert s != split_ids(ids, (0.8, 0.1, 0.1), seed=1)
    for bad in ((0.8, 0.1), (0.8, 0.3, 0.1), (1.2, -0.1, -0.1)):
        with pytest.raises(InputError, match="splits"):
            split_ids(ids, bad)


def test_split_with_zero_test_fraction_has_no_test_shapes():
    assert split_ids({"a": [f"a{i}" for i in range(10)]}, (0.5, 0.5, 0.0))["test"] == []


def test_generate_rejects_bad_arguments(tmp_path):
    with pytest.raises(InputError, match="unknown categories.*spaceship"):
        generate_dataset(tmp_path / "a", ["chair", "spaceship"], 1, 1, 16, quiet=True)
    with pytest.raises(InputError, match="views"):
        generate_dataset(tmp_path / "b", ["chair"], 1, 0, 16, quiet=True)
    with pytest.raises(InputError, match="mesh folder not found"):
        generate_dataset(tmp_path / "c", mesh_source=tmp_path / "nowhere", quiet=True)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty/readme.txt").write_text("no meshes here")
    with pytest.raises(InputError, match="no mesh files"):
        generate_dataset(tmp_path / "d", mesh_source=tmp_path / "empty", quiet=True)
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").rglob("*.npz"))


# ---------------------------------------------------------------- ground truth contents


def test_ground_truth_is_consistent_with_the_mesh(tiny_dataset):
    for sid in ("chair_0001", "car_0002"):
        d = tiny_dataset / "shapes" / sid
        mesh = trimesh.load(d / "mesh.ply", force="mesh")
        assert mesh.is_watertight and np.all(np.abs(mesh.bounds) <= 0.5 + 1e-6)
        with np.load(d / "gt.npz") as z:
            gt = {k: z[k] for k in z.files}
        assert gt["voxels32"].dtype == bool and gt["voxels32"].shape == (32, 32, 32)
        assert gt["points"].shape == gt["normals"].shape == (2048, 3) and gt["points"].dtype == np.float32
        assert gt["occ_points"].shape == (1024, 3) and gt["occ_points"].dtype == np.float16
        assert gt["occ_labels"].shape == (1024,) and gt["occ_labels"].dtype == bool
        # surface points lie on the mesh, normals are unit
        dist = raycasting_scene(mesh).compute_distance(gt["points"]).numpy()
        assert dist.max() < 1e-4
        np.testing.assert_allclose(np.linalg.norm(gt["normals"], axis=1), 1.0, atol=1e-3)
        # occupancy: first half near the surface (sigma 0.02), second half uniform in [-0.55, 0.55]^3
        near, uni = gt["occ_points"][:512].astype(np.float32), gt["occ_points"][512:].astype(np.float32)
        assert np.median(raycasting_scene(mesh).compute_distance(near).numpy()) < 0.03
        assert np.abs(uni).max() <= 0.55 and np.abs(uni).max() > 0.5
        # uniform samples agree with the voxel grid's cell lookup (disagreement only near the surface)
        inside_cube = np.all(np.abs(uni) < 0.5, axis=1)
        idx = ((uni[inside_cube] + 0.5) * 32).astype(int)
        cell = gt["voxels32"][idx[:, 0], idx[:, 1], idx[:, 2]]
        assert np.mean(cell == gt["occ_labels"][512:][inside_cube]) > 0.95
        assert not gt["occ_labels"][512:][~inside_cube].any()
        # voxels never lose volume; cells a thin part passes through are kept, which inflates thin shapes
        # (measured: bottles +0-3 %, cars +10-19 %, chairs/tables +27-52 % at 32^3)
        assert 0.97 * mesh.volume < gt["voxels32"].mean() < 1.6 * mesh.volume


def test_geometry_buffers_agree_with_the_rgba_views(tiny_dataset):
    d = tiny_dataset / "shapes/table_0000"
    with np.load(d / "geometry.npz") as z:
        depth, normals = z["depth"], z["normals"]
    assert depth.shape == (3, 32, 32) and depth.dtype == np.float32
    assert normals.shape == (3, 32, 32, 3) and normals.dtype == np.int8
    for v in range(3):
        alpha = np.asarray(Image.open(d / f"view_{v:02d}.png"))[..., 3]
        fg = depth[v] > 0
        assert np.mean(fg != (alpha >= 128)) < 0.05  # differ only on silhouette pixels
        n = np.linalg.norm(normals[v][fg].astype(np.float32) / 127, axis=1)
        assert np.all(np.abs(n - 1) < 0.02) and np.all(normals[v][~fg] == 0)


# ---------------------------------------------------------------- ShapeDataset


def test_dataset_rejects_bad_arguments(tmp_path, tiny_dataset):
    with pytest.raises(InputError, match="split"):
        ShapeDataset(tiny_dataset, "training")
    for v in (0, 4):
        with pytest.raises(InputError, match="between 1 and 3"):
            ShapeDataset(tiny_dataset, "train", views=v)
    with pytest.raises(DatasetError, match="manifest.json is missing"):
        ShapeDataset(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(DatasetError, match="corrupt manifest"):
        ShapeDataset(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(DatasetError, match="not a lift3d dataset"):
        ShapeDataset(tmp_path)


def test_evaluation_items_are_the_first_views_preprocessed(tiny_dataset):
    ds = ShapeDataset(tiny_dataset, "val", views=2, targets=(), image_size=20)
    assert len(ds) == 4 and [s["split"] for s in ds.shapes] == ["val"] * 4
    item = ds[1]
    assert item["view_ids"].tolist() == [0, 1] and item["view_ids"].dtype == np.int64
    for k, v in enumerate(item["view_ids"]):
        rgba = np.asarray(Image.open(ds.shape_dir(1) / f"view_{v:02d}.png").convert("RGBA"))
        img, m = prepare_image(rgba, rgba[..., 3] >= 128, size=20)
        np.testing.assert_array_equal(item["images"][k], img)
        np.testing.assert_array_equal(item["masks"][k], m)
        assert np.all(item["images"][k][:, m[0] == 0] == 1.0)  # composited on white
    assert item["category_index"] == ds.categories.index(item["category"]) == 1  # val shapes in family order
    assert "voxels32" not in item and "points" not in item


def test_augmentation_is_seeded_by_epoch_and_keeps_the_background_white(tiny_dataset):
    ds = ShapeDataset(tiny_dataset, "train", views=2, targets=(), image_size=24, augment=True, seed=5)
    a, b = ds[0], ds[0]
    np.testing.assert_array_equal(a["images"], b["images"])  # same (seed, epoch, item) -> same draw
    subsets, images = set(), []
    for epoch in range(6):
        ds.set_epoch(epoch)
        it = ds[0]
        subsets.add(tuple(it["view_ids"]))
        images.append(it["images"])
        assert len(set(it["view_ids"])) == 2 and np.all(np.diff(it["view_ids"]) > 0)
        for k in range(2):
            assert np.all(it["images"][k][:, it["masks"][k, 0] == 0] == 1.0)
    assert len(subsets) > 1  # random view subsets
    plain = ShapeDataset(tiny_dataset, "train", views=3, targets=(), image_size=24)[0]
    ds.set_num_views(3)
    ds.set_epoch(0)
    jittered = ds[0]
    assert not np.allclose(jittered["images"], plain["images"])  # colour / crop jitter changed the pixels
    assert ds.set_num_views(10) is None and ds.num_views == 3  # clamped to the views on disk
    ds.set_num_views(0)
    assert ds.num_views == 1


def test_targets_cameras_masks_and_collate(tiny_dataset):
    ds = ShapeDataset(tiny_dataset, "all", views=3, targets=("voxels32", "points", "occupancy"), image_size=16,
                      categories=["car", "bottle"])
    assert len(ds) == 6 and {s["category"] for s in ds.shapes} == {"car", "bottle"}
    item = ds[0]
    assert item["voxels32"].dtype == np.float32 and set(np.unique(item["voxels32"])) == {0.0, 1.0}
    assert item["occ_points"].dtype == item["occ_labels"].dtype == np.float32
    assert item["points"].shape == item["normals"].shape == (2048, 3) and item["normals"].dtype == np.float32
    cams = ds.cameras(0)
    assert len(cams) == 3 and cams[0].width == cams[0].height == 32
    np.testing.assert_allclose(cams[0].K[:2, 2], [16, 16])
    masks = ds.masks_full(0)
    assert len(masks) == 3 and masks[0].shape == (32, 32) and masks[0].dtype == bool and masks[0].sum() > 30
    assert len(ds.masks_full(0, view_ids=[2])) == 1
    batch = collate([ds[0], ds[3]])
    assert batch["images"].shape == (2, 3, 3, 16, 16) and batch["images"].dtype == torch.float32
    assert batch["voxels32"].shape == (2, 32, 32, 32)
    assert batch["category_index"].tolist() == [2, 3] and batch["category"] == ["bottle", "car"]
    assert batch["shape_id"] == [ds.shapes[0]["id"], ds.shapes[3]["id"]]
    with pytest.raises(IndexError):
        ds[6]


def test_missing_or_corrupt_members_name_the_file(tmp_path, tiny_dataset):
    root = tmp_path / "copy"
    shutil.copytree(tiny_dataset, root)
    with pytest.raises(DatasetError, match="cannot provide target 'voxels64'"):  # made without 64^3 voxels
        ShapeDataset(root, "all", targets=("voxels64",))
    ds = ShapeDataset(root, "all", targets=("voxels32",))
    (root / "shapes/chair_0000/gt.npz").write_bytes(b"PK broken")
    with pytest.raises(DatasetError, match="chair_0000/gt.npz"):
        ds[0]
    (root / "shapes/chair_0000/cameras.json").write_text("{")
    with pytest.raises(DatasetError, match="chair_0000/cameras.json"):
        ds.cameras(0)
    (root / "shapes/chair_0001/view_02.png").unlink()
    with pytest.raises(DatasetError, match="chair_0001/view_02.png"):
        ShapeDataset(root, "all", views=3, targets=())[1]


# ---------------------------------------------------------------- writer robustness


def test_interrupted_run_leaves_only_whole_shapes(tmp_path, monkeypatch):
    out = tmp_path / "ds"
    calls = {"n": 0}
    real_export = trimesh.Trimesh.export

    def flaky_export(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # Ctrl-C while the second shape writes its last file
            raise KeyboardInterrupt
        return real_export(self, *args, **kwargs)

    monkeypatch.setattr(trimesh.Trimesh, "export", flaky_export)
    with pytest.raises(KeyboardInterrupt):
        generate_dataset(out, ["mug"], 3, 2, 16, workers=1, points=256, occ_samples=128, quiet=True)
    assert sorted(p.name for p in (out / "shapes").iterdir()) == ["mug_0000"]  # no temp folder left behind
    assert not (out / "manifest.json").exists()
    monkeypatch.setattr(trimesh.Trimesh, "export", real_export)
    m = generate_dataset(out, ["mug"], 3, 2, 16, workers=1, points=256, occ_samples=128, quiet=True)
    assert len(m["shapes"]) == 3 and all((out / "shapes" / s["id"] / "mesh.ply").is_file() for s in m["shapes"])


def test_mesh_folder_up_axis_and_default_category(tmp_path):
    src = tmp_path / "meshes"
    src.mkdir()
    post = trimesh.creation.box(extents=(0.2, 0.3, 1.0))  # tall along +Z
    post.export(src / "post.glb")
    open_box = trimesh.creation.box(extents=(1.0, 0.5, 0.5))
    open_box.update_faces(open_box.face_normals[:, 1] < 0.5)  # remove the top: not watertight
    open_box.export(src / "tray.ply")
    m = generate_dataset(tmp_path / "ds", views=2, image_size=24, workers=1, mesh_source=src, up="+z",
                         points=512, occ_samples=256, quiet=True)
    assert m["categories"] == ["default"] and m["source"] == str(src)
    assert [s["id"] for s in m["shapes"]] == ["default_0000", "default_0001"]
    with np.load(tmp_path / "ds/shapes/default_0000/gt.npz") as z:  # post.glb sorts first
        occupied = np.argwhere(z["voxels32"])
    extent = occupied.max(axis=0) - occupied.min(axis=0) + 1
    assert extent[1] == 32 and extent[0] < 12 and extent[2] < 12  # +Z became +Y, longest side = 1
    with np.load(tmp_path / "ds/shapes/default_0001/gt.npz") as z:
        assert z["voxels32"].sum() > 100  # the open tray still voxelises


def test_mesh_folder_seeds_do_not_depend_on_workers(tmp_path, box_mesh, sphere):
    src = tmp_path / "m"
    (src / "a").mkdir(parents=True)
    box_mesh.export(src / "a/box.stl")
    sphere.export(src / "a/ball.obj")
    kw = dict(views=2, image_size=16, mesh_source=src, points=256, occ_samples=128, quiet=True, seed=3)
    generate_dataset(tmp_path / "one", workers=1, **kw)
    generate_dataset(tmp_path / "two", workers=2, **kw)
    for sid in ("a_0000", "a_0001"):
        for f in ("gt.npz", "geometry.npz", "view_00.png"):
            assert (tmp_path / "one/shapes" / sid / f).read_bytes() == (tmp_path / "two/shapes" / sid / f).read_bytes()


def test_failed_shapes_stop_the_run_before_the_manifest(tmp_path, monkeypatch):
    def boom(task):
        raise DatasetError(f"cannot read mesh {task.shape_id}.obj: synthetic failure")

    monkeypatch.setattr(gen, "write_shape", boom)
    with pytest.raises(DatasetError, match="2 shape\\(s\\) failed, first chair_0000.*--skip-bad"):
        generate_dataset(tmp_path / "ds", ["chair"], 2, 1, 16, workers=1, quiet=True)
    assert not (tmp_path / "ds/manifest.json").exists()


# ---------------------------------------------------------------- contact sheet and CLI


def test_contact_sheet_layout(tiny_dataset):
    sheet = contact_sheet(tiny_dataset, 2, "all", max_views=2)
    assert sheet.shape == (6 * 32, 2 * 32, 3) and sheet.dtype == np.uint8
    rows = sheet.reshape(6, 32, 2 * 32, 3)
    assert np.all(rows[0, 0, 0] == 255)  # RGB row composited on white
    assert set(np.unique(rows[1])) <= {0, 255}  # mask row is binary
    assert rows[4].min() < 200 and rows[5].min() < 220  # GT voxels and GT points are drawn
    with pytest.raises(InputError, match="out of range"):
        contact_sheet(tiny_dataset, 99, "test")


def test_cli_info_and_show(tmp_path, capsys, tiny_dataset):
    code, out, err = run(capsys, "data", "info", tiny_dataset)
    assert code == 0, err
    assert "12 shapes, 3 views of 32 px" in out
    assert any(line.split() == ["chair", "train", "1", "val", "1", "test", "1"] for line in out.splitlines())
    png = tmp_path / "sheet.png"
    code, out, err = run(capsys, "data", "show", tiny_dataset, "--index", 0, "--split", "test", "-o", png,
                         "--views", 3)
    assert code == 0, err
    assert Image.open(png).size == (3 * 32, 6 * 32)
    code, _, err = run(capsys, "data", "show", tiny_dataset, "--index", 9, "--split", "val", "-o",
                       tmp_path / "no.png")
    assert code == 2 and "out of range" in err and not (tmp_path / "no.png").exists()
    code, _, err = run(capsys, "data", "info", tmp_path)
    assert code == 2 and "manifest.json is missing" in err


def test_cli_generate(tmp_path, capsys):
    out = tmp_path / "gen"
    code, text, err = run(capsys, "data", "generate", "--out", out, "--categories", "bottle, mug", "-n", 1,
                          "--views", 2, "--image-size", 16, "--voxel-res", 32, "--voxel-res", 16, "-j", 1, "--quiet")
    assert code == 0, err
    assert "2 shapes in 2 categories" in text
    m = read_manifest(out)
    assert m["voxel_res"] == [32, 16] and m["categories"] == ["bottle", "mug"]
    with np.load(out / "shapes/mug_0000/gt.npz") as z:
        assert z["voxels16"].shape == (16, 16, 16)
    code, _, err = run(capsys, "data", "generate", "--out", tmp_path / "x", "--categories", "dragon", "-q")
    assert code == 2 and "unknown categories" in err and "\n" not in err.strip()


def test_voxel_mode_is_recorded_and_a_resume_cannot_mix_modes(tmp_path):
    out = tmp_path / "surface"
    m = generate_dataset(out, ["airplane"], 1, 1, 16, workers=1, quiet=True, voxel_mode="surface")
    assert m["voxel_mode"] == "surface"
    with np.load(out / "shapes/airplane_0000/gt.npz") as z:
        surface = z["voxels32"]
    mesh = trimesh.load(out / "shapes/airplane_0000/mesh.ply", force="mesh")
    from lift3d.geometry.voxels import mesh_to_voxels

    assert np.array_equal(surface, mesh_to_voxels(mesh, 32, mode="surface"))
    assert surface.sum() > 1.3 * mesh_to_voxels(mesh, 32).sum()  # thin wings: the surface convention is thicker
    with pytest.raises(InputError, match="voxel_mode 'surface', not 'tight'"):
        generate_dataset(out, ["airplane"], 1, 1, 16, workers=1, quiet=True)  # the default is tight
    with pytest.raises(InputError, match="voxel mode"):
        generate_dataset(tmp_path / "x", ["airplane"], 1, 1, 16, workers=1, quiet=True, voxel_mode="exact")


def test_cached_dataset_returns_the_same_items_without_rereading(tmp_path, tiny_dataset):
    root = tmp_path / "copy"
    shutil.copytree(tiny_dataset, root)
    plain = ShapeDataset(root, "train", views=3, image_size=24, augment=True, seed=3)
    cached = ShapeDataset(root, "train", views=3, image_size=24, augment=True, seed=3, cache=True)
    first = [cached[i] for i in range(len(cached))]  # all 3 views of every shape are now in RAM
    for i, a in enumerate(first):
        assert np.array_equal(a["images"], plain[i]["images"]) and np.array_equal(a["voxels32"], plain[i]["voxels32"])
    for p in [*(root / "shapes").glob("*/view_*.png"), *(root / "shapes").glob("*/gt.npz")]:
        p.unlink()  # later reads must come from RAM
    assert all(np.array_equal(a["images"], cached[i]["images"]) for i, a in enumerate(first))
    cached.set_epoch(1)
    cached.set_num_views(2)
    plain.set_num_views(2)
    assert cached[0]["images"].shape[0] == 2  # new view subsets of cached shapes need no file
    with pytest.raises(DatasetError):
        plain[0]
