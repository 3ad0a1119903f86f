"""Every dataset reader meets lift3d.data.protocol: keywords, items, targets, splits by shape, and training."""

import numpy as np
import pytest

from fixtures_real import make_modelnet, make_pix3d, make_r2n2, pix3d_mesh
from lift3d.data.dataset import collate
from lift3d.data.protocol import ShapeDatasetProtocol, check_item
from lift3d.data.readers import DATASETS, detect_layout, open_dataset
from lift3d.errors import DatasetError

LAYOUTS = ("lift3d", "r2n2", "pix3d", "modelnet")
# 8 photos of 6 CAD models; by the stable hash of their paths u is in val, n in test, the others in train
PIX3D_MODELS = ["a", "a", "b", "c", "c", "u", "n", "f"]


@pytest.fixture(scope="module")
def roots(tmp_path_factory, tiny_dataset):
    """One small folder per layout."""
    base = tmp_path_factory.mktemp("layouts")
    make_modelnet(base / "modelnet", count=6)
    make_modelnet(base / "modelnet", split="test", count=2, first=7)
    make_pix3d(base / "pix3d", names=[f"{i:04d}" for i in range(8)], models=PIX3D_MODELS)
    return {"lift3d": tiny_dataset, "r2n2": make_r2n2(base / "r2n2", models=[f"m{i}" for i in range(8)]),
            "pix3d": base / "pix3d", "modelnet": base / "modelnet"}


def _open(roots, layout, **kw):
    """All of a layout's shapes, small sizes, every cheap target it provides (not voxels64: 2 s per mesh)."""
    kw = {"split": "all", "image_size": 24, **kw}
    if layout != "lift3d":
        kw = {"points": 512, "occ_samples": 256, **kw}
    if "targets" not in kw:
        probe = open_dataset(roots[layout], split="all", views=0 if layout == "modelnet" else 1)
        kw["targets"] = tuple(t for t in probe.available_targets() if t != "voxels64")
    if "views" not in kw:
        kw["views"] = 0 if layout == "modelnet" else 1
    return open_dataset(roots[layout], **kw)


def test_layouts_are_registered_and_detected(roots, tmp_path):
    assert sorted(DATASETS.names()) == sorted(LAYOUTS)
    for layout in LAYOUTS:
        assert detect_layout(roots[layout]) == layout
    assert len(open_dataset(roots["pix3d"], layout="pix3d", split="all")) == 8  # layout forced by name
    both = tmp_path / "both"
    make_pix3d(make_r2n2(both, models=["m1"], meta=[(30.0, 25.0, 0.0, 0.8, 25.0)]), names=["0001"])
    with pytest.raises(DatasetError, match="several dataset layouts"):
        detect_layout(both)
    assert len(open_dataset(both, layout="r2n2", split="all")) == 1
    with pytest.raises(DatasetError, match="unknown dataset layout 'shapenet'"):
        open_dataset(roots["r2n2"], layout="shapenet")
    with pytest.raises(DatasetError, match="bad arguments for dataset layout 'r2n2'.*synsets"):
        open_dataset(roots["r2n2"], synsets=["chair"])  # every reader takes `categories`


@pytest.mark.parametrize("layout", LAYOUTS)
def test_items_meet_the_protocol(roots, layout):
    ds = _open(roots, layout)
    assert isinstance(ds, ShapeDatasetProtocol) and len(ds) > 0
    assert set(ds.targets) >= {"voxels32", "points", "occupancy"}
    views = min(2, ds.total_views)
    ds.set_num_views(views)
    items = [ds[0], ds[len(ds) - 1]]
    for item in items:
        check_item(item, ds.targets, 24, views)
        assert item["category"] in ds.categories and ds.categories[item["category_index"]] == item["category"]
        assert set(np.unique(item["voxels32"])) <= {0.0, 1.0} and item["voxels32"].sum() > 0
        assert set(np.unique(item["occ_labels"])) == {0.0, 1.0}
        assert np.allclose(np.linalg.norm(item["normals"], axis=1), 1.0, atol=1e-3)
        assert np.abs(item["points"]).max() <= 0.5 + 1e-4  # canonical cube
    batch = collate(items)  # fixed P and N: the items stack
    assert tuple(batch["images"].shape) == (2, views, 3, 24, 24)
    assert batch["points"].shape[:2] == batch["normals"].shape[:2] and batch["occ_labels"].ndim == 2
    ds.set_num_views(99)
    assert ds.num_views == ds.total_views
    with pytest.raises(IndexError):
        ds[len(ds)]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_splits_are_disjoint_by_shape_and_deterministic(roots, layout):
    views = 0 if layout == "modelnet" else 1
    parts = {s: [open_dataset(roots[layout], split=s, views=views).describe(i)[1]
                 for i in range(len(open_dataset(roots[layout], split=s, views=views)))]
             for s in ("train", "val", "test", "all")}
    shapes = {s: set(p) for s, p in parts.items()}
    assert not (shapes["train"] & shapes["val"] or shapes["train"] & shapes["test"] or shapes["val"] & shapes["test"])
    assert shapes["train"] | shapes["val"] | shapes["test"] == shapes["all"]
    assert sorted(parts["train"] + parts["val"] + parts["test"]) == sorted(parts["all"])
    assert shapes["train"] and len(shapes["train"]) >= len(shapes["test"])
    again = open_dataset(roots[layout], split="train", views=views)
    assert [again.describe(i)[1] for i in range(len(again))] == parts["train"]
    if layout == "modelnet":  # official test split; val is carved out of ModelNet's train folder
        assert shapes["test"] == {"chair_0007", "chair_0008", "desk_0007", "desk_0008"}
    if layout == "pix3d":  # photos of one CAD model stay together
        assert sorted(parts["all"]) == sorted(PIX3D_MODELS)


def test_targets_a_source_cannot_provide_are_named(roots):
    with pytest.raises(DatasetError, match="cannot provide target 'voxels64'"):
        open_dataset(roots["r2n2"], targets=("voxels32", "voxels64"))
    with pytest.raises(DatasetError, match="unknown target 'depth'"):
        open_dataset(roots["pix3d"], targets=("depth",))
    with pytest.raises(DatasetError, match="has no images.*lift3d data generate --meshes"):
        open_dataset(roots["modelnet"], views=1)


def test_derived_targets_agree_with_the_source(roots):
    r2n2 = _open(roots, "r2n2", views=1)
    item = r2n2[0]
    grid = item["voxels32"] > 0.5
    cells = np.floor((item["occ_points"] + 0.5) * 32).astype(int)
    inside = np.all((cells >= 0) & (cells < 32), axis=1)
    looked_up = np.zeros(len(cells), bool)
    looked_up[inside] = grid[tuple(cells[inside].T)]
    assert np.array_equal(item["occ_labels"] > 0.5, looked_up)  # labels are the grid's cells
    near = np.floor((item["points"] + 0.5) * 32 + 0.5 * np.sign(-item["normals"])).astype(int).clip(0, 31)
    assert grid[tuple(near.T)].mean() > 0.9  # surface points sit on the voxels' boundary, just outside solid cells
    assert np.array_equal(r2n2[0]["points"], item["points"])  # seeded per shape: the same every time
    pix = _open(roots, "pix3d", targets=("occupancy", "voxels32"))
    it = pix[0]
    half = np.array([0.4, 0.6, 0.2]) / 0.6 / 2  # box 0 of the fixture, normalised (longest side 0.6 -> 1)
    truth = np.all(np.abs(it["occ_points"]) < half, axis=1)
    assert np.mean(truth == (it["occ_labels"] > 0.5)) > 0.99
    assert abs(it["voxels32"].mean() - np.prod(2 * half)) < 0.04  # within a cell of rounding on each side
    assert pix3d_mesh(0).extents.max() == pytest.approx(0.6)


def test_augmented_items_draw_seeded_views_with_their_cameras(roots):
    from lift3d.geometry.cameras import Camera

    ds = _open(roots, "r2n2", views=2, augment=True, seed=4, targets=())
    a, b = ds[1], ds[1]
    assert np.array_equal(a["images"], b["images"]) and a["view_ids"].tolist() == b["view_ids"].tolist()
    subsets = set()
    for epoch in range(6):
        ds.set_epoch(epoch)
        it = ds[1]
        subsets.add(tuple(it["view_ids"]))
        cams = ds.cameras(1, it["view_ids"])
        assert [Camera.from_dict(c).t.tolist() for c in it["cameras"]] == [c.t.tolist() for c in cams]
    assert len(subsets) > 1
    plain = _open(roots, "r2n2", views=2, targets=())[1]
    assert plain["view_ids"].tolist() == [0, 1] and not np.allclose(plain["images"], a["images"])


def test_cache_keeps_items_identical(roots):
    plain, cached = (_open(roots, "pix3d", targets=("voxels32", "points"), cache=c) for c in (False, True))
    for i in (0, 1, 0):
        x, y = plain[i], cached[i]
        assert all(np.array_equal(x[k], y[k]) for k in ("images", "voxels32", "points"))
        assert y["voxels32"].flags.writeable  # items are copies, never the cached read-only arrays


@pytest.mark.parametrize("layout", ["r2n2", "pix3d"])
def test_lift3d_train_runs_on_a_real_layout(roots, layout, tmp_path):
    from lift3d.train.run import run_training

    overrides = {"data": {"root": str(roots[layout]), "cache": True}, "train": {"epochs": 1, "out": str(tmp_path)}}
    row = run_training("configs/tiny.yaml", overrides=overrides, quiet=True)
    assert row["epoch"] == 1 and np.isfinite(row["loss"]) and "val_iou" in row  # validated on the val split
    assert (tmp_path / "final.safetensors").is_file()


def test_lift3d_train_on_modelnet_says_how_to_render_it(roots, tmp_path):
    from lift3d.train.run import run_training

    with pytest.raises(DatasetError, match="lift3d data generate --meshes .* --up \\+z"):
        run_training("configs/tiny.yaml", overrides={"data": {"root": str(roots["modelnet"])},
                                                     "train": {"out": str(tmp_path)}}, quiet=True)
