"""Real-dataset readers on tiny fixtures written in each layout (tests/fixtures_real.py; no third-party data)."""

import json
import warnings

import numpy as np
import pytest
from PIL import Image

from fixtures_real import (
    CHAIR,
    PIX3D_SIZE,
    R2N2_META,
    R2N2_SCALE,
    R2N2_TRANSLATE,
    blender_r2n2_camera,
    l_grid,
    make_modelnet,
    make_pix3d,
    make_r2n2,
    pix3d_mask,
    pix3d_mesh,
)
from lift3d.data.readers import detect_layout, open_dataset
from lift3d.data.readers.modelnet import ModelNetDataset, read_off
from lift3d.data.readers.pix3d import Pix3DDataset, pix3d_camera
from lift3d.data.readers.r2n2 import R2N2Dataset, r2n2_camera, split_members
from lift3d.errors import DatasetError
from lift3d.geometry.cameras import Camera, project


@pytest.fixture(scope="module")
def r2n2_root(tmp_path_factory):
    return make_r2n2(tmp_path_factory.mktemp("r2n2"))


# --- ShapeNet-R2N2 -------------------------------------------------------------------------------------------

def test_r2n2_camera_hand_computed():
    cam = r2n2_camera(0.0, 0.0, 1.0)
    assert np.allclose(cam.center, [1.75, 0, 0], atol=1e-12)  # azimuth 0: on +X, distance 1 * 1.75
    assert np.isclose(cam.K[0, 0], 137 * 35 / 32) and np.isclose(cam.K[0, 2], 68.5)  # Blender's 35 mm / 32 mm
    uv, z = project(np.array([[0.0, 0.0, -0.5], [0.0, 0.5, 0.0]]), cam)
    assert np.allclose(uv[0], [68.5 + 149.84375 * 0.5 / 1.75, 68.5])  # -Z is to the right of the image
    assert np.allclose(uv[1], [68.5, 68.5 - 149.84375 * 0.5 / 1.75])  # +Y is up (smaller v)
    assert np.allclose(z, 1.75)
    assert np.allclose(r2n2_camera(90.0, 0.0, 1.0).center, [0, 0, 1.75], atol=1e-12)  # azimuth 90: on +Z
    el = r2n2_camera(0.0, 30.0, 0.8).center
    assert np.allclose(el, 1.4 * np.array([np.cos(np.pi / 6), 0.5, 0]))
    assert np.isclose(r2n2_camera(0, 0, 1, fov=25.0).K[0, 0], 68.5 / np.tan(np.radians(12.5)))


@pytest.mark.parametrize("az,el,roll,ratio", [(0, 0, 0, 1), (30, 25, 0, 0.8), (200, 28, 0, 0.75),
                                              (300, 10, 15, 0.9), (123.4, -20, -40, 0.66)])
def test_r2n2_camera_matches_the_blender_scene_graph(az, el, roll, ratio):
    mine, ref = r2n2_camera(az, el, ratio, in_plane=roll), blender_r2n2_camera(az, el, roll, ratio)
    assert np.abs(mine.R - ref.R).max() < 1e-9 and np.abs(mine.t - ref.t).max() < 1e-9
    assert np.abs(mine.K - ref.K).max() < 1e-9


def test_r2n2_sample_dict_voxels_and_cameras(r2n2_root):
    assert detect_layout(r2n2_root) == "r2n2"
    ds = open_dataset(r2n2_root, split="all", views=3, image_size=48)
    assert isinstance(ds, R2N2Dataset) and len(ds) == 2 and ds.categories == ["chair"]
    item = ds[1]
    assert item["images"].shape == (3, 3, 48, 48) and item["images"].dtype == np.float32
    assert item["masks"].shape == (3, 1, 48, 48) and item["masks"].dtype == np.float32
    assert 0.0 <= item["images"].min() and item["images"].max() <= 1.0
    assert item["voxels32"].dtype == np.float32 and item["voxels32"].shape == (32, 32, 32)
    assert np.array_equal(item["voxels32"] > 0.5, l_grid())  # exact, no axis swap or flip
    assert item["category"] == "chair" and item["category_index"] == 0 and item["shape_id"] == "m2"
    assert item["view_ids"].tolist() == [0, 1, 2] and "points" not in item
    # model-frame cameras equal the Blender re-enactment that rendered the fixture
    model = R2N2Dataset(r2n2_root, split="all", views=3, camera_frame="model").cameras(0)
    for cam, (a, e, r, d, _) in zip(model, R2N2_META, strict=True):
        ref = blender_r2n2_camera(a, e, r, d)
        assert np.abs(cam.R - ref.R).max() < 1e-6 and np.abs(cam.t - ref.t).max() < 1e-6
    # canonical cameras: the same view of the grid's cube, t' = (R c0 + t) / scale with c0 = translate + scale/2
    for cam_d, ref in zip(item["cameras"], model, strict=True):
        cam = Camera.from_dict(cam_d)
        assert np.allclose(cam.R, ref.R)
        assert np.allclose(cam.t, (ref.R @ (R2N2_TRANSLATE + R2N2_SCALE / 2) + ref.t) / R2N2_SCALE)


def _hit_rate(grid, cams, alphas):
    pts = -0.5 + (np.argwhere(grid) + 0.5) / 32  # cell centres in the canonical cube
    rates = []
    for cam, alpha in zip(cams, alphas, strict=True):
        uv, _ = project(pts, cam)
        u, v = np.floor(uv).astype(int).T
        inside = (u >= 0) & (u < 137) & (v >= 0) & (v < 137)
        rates.append(np.mean(inside & (alpha[v.clip(0, 136), u.clip(0, 136)] > 0)))
    return min(rates)


def test_r2n2_voxels_project_onto_the_renders(r2n2_root):
    """Voxel centres seen through the reader's cameras land on the rendered silhouettes; any axis mistake
    (a flipped or swapped grid) does not."""
    ds = R2N2Dataset(r2n2_root, split="all", views=3)
    cams = [Camera.from_dict(c) for c in ds[0]["cameras"]]
    rdir = r2n2_root / "ShapeNetRendering" / CHAIR / "m1" / "rendering"
    alphas = [np.asarray(Image.open(rdir / f"{v:02d}.png"))[..., 3] for v in range(3)]
    g = ds[0]["voxels32"] > 0.5
    assert _hit_rate(g, cams, alphas) > 0.97
    for wrong in (g[::-1], g[:, ::-1], g[:, :, ::-1], g.transpose(2, 1, 0), g.transpose(0, 2, 1)):
        assert _hit_rate(wrong, cams, alphas) < 0.85


def test_r2n2_splits(tmp_path):
    make_r2n2(tmp_path, models=[f"m{i}" for i in range(20)], meta=R2N2_META[:1])
    make_r2n2(tmp_path, models=["t1", "t2", "t3"], synset="04379243", meta=R2N2_META[:1])  # a second category

    def ids(**kw):
        return [m for _, m in R2N2Dataset(tmp_path, **kw).models]

    parts = {s: ids(split=s, split_seed=3) for s in ("train", "val", "test")}
    assert sorted(sum(parts.values(), [])) == sorted(ids(split="all"))  # disjoint and complete
    assert len(parts["train"]) >= 15 and parts["val"] and parts["test"]  # about 80/10/10
    assert parts == {s: ids(split=s, split_seed=3) for s in parts}  # deterministic
    assert parts["train"] == ids(split="train", split_seed=3, seed=9)  # the augmentation seed moves no shape
    assert parts["train"] != ids(split="train", split_seed=4)
    # a shape's split is its own (stable hash): filtering categories never moves one
    assert ids(split="train", split_seed=3, categories=["chair"]) == [m for m in parts["train"] if m.startswith("m")]
    specs = [{CHAIR: {"train": ["m1", "m2"], "test": ["m3"]}},
             [{"taxonomy_id": CHAIR, "train": ["m1", "m2"], "val": [], "test": ["m3"]}],
             {"train": {CHAIR: {"m1": [0, 1], "m2": [0]}}, "test": {CHAIR: {"m3": [0]}}}]
    for spec in specs:
        assert split_members(spec, "train") == {(CHAIR, "m1"), (CHAIR, "m2")}
        f = tmp_path / "split.json"
        f.write_text(json.dumps(spec))
        assert ids(split="test", split_file=f) == ["m3"]
    assert len(R2N2Dataset(tmp_path, split="all", categories=["chair"])) == 20
    assert len(R2N2Dataset(tmp_path, split="all", categories=[CHAIR])) == 20
    with pytest.raises(DatasetError, match="unknown ShapeNet category"):
        R2N2Dataset(tmp_path, categories=["spaceship"])


def test_r2n2_missing_and_corrupt_files(tmp_path):
    make_r2n2(tmp_path, models=("m1", "m2", "m3"), meta=R2N2_META[:2])
    vox = tmp_path / "ShapeNetVox32" / CHAIR
    ren = tmp_path / "ShapeNetRendering" / CHAIR
    (vox / "m2" / "model.binvox").unlink()
    with pytest.raises(DatasetError, match="m2/model.binvox"):
        R2N2Dataset(tmp_path, split="all")
    with pytest.warns(UserWarning, match="m2/model.binvox"):
        assert [m for _, m in R2N2Dataset(tmp_path, split="all", skip_bad=True).models] == ["m1", "m3"]
    (vox / "m2" / "model.binvox").write_bytes((vox / "m1" / "model.binvox").read_bytes())
    data = (vox / "m3" / "model.binvox").read_bytes()
    (vox / "m3" / "model.binvox").write_bytes(data[:-6])  # truncated run-length data
    (ren / "m1" / "rendering" / "01.png").write_bytes(b"\x89PNG broken")
    ds = R2N2Dataset(tmp_path, split="all", views=2)  # existence is all that is checked when opening
    with pytest.raises(DatasetError, match="m1/rendering/01.png"):
        ds[0]
    with pytest.raises(DatasetError, match="m3/model.binvox"):
        ds[2]
    with pytest.warns(UserWarning) as rec:
        ds = R2N2Dataset(tmp_path, split="all", views=2, skip_bad=True)  # skip_bad also checks contents
    assert ds.models == [(CHAIR, "m2")] and ds[0]["images"].shape[0] == 2
    assert any("m1/rendering/01.png" in str(w.message) for w in rec)
    assert any("m3/model.binvox" in str(w.message) for w in rec)
    (ren / "m2" / "rendering" / "rendering_metadata.txt").write_text("30 oops\n")
    with pytest.raises(DatasetError, match="rendering_metadata.txt"):
        R2N2Dataset(tmp_path, split="all", views=1).cameras(1)


# --- Pix3D ---------------------------------------------------------------------------------------------------

def test_pix3d_camera_projects_the_normalised_model_onto_its_mask(tmp_path):
    recs = make_pix3d(tmp_path)
    assert detect_layout(tmp_path) == "pix3d"
    ds = open_dataset(tmp_path, split="all", targets=("voxels32", "points"), image_size=32, points=4000)
    assert isinstance(ds, Pix3DDataset) and len(ds) == 2
    item = ds[1]
    assert item["images"].shape == (1, 3, 32, 32) and item["masks"].shape == (1, 1, 32, 32)
    assert item["voxels32"].shape == (32, 32, 32) and item["voxels32"].dtype == np.float32
    assert item["points"].shape == (4000, 3) and item["points"].dtype == np.float32
    assert item["category"] == "chair" and item["shape_id"] == "0002" and item["view_ids"].tolist() == [0]
    pts = item["points"]
    assert np.isclose(np.ptp(pts, axis=0).max(), 1.0, atol=0.01) and np.allclose(pts.mean(axis=0), 0, atol=0.02)
    # box 0.4 x 0.7 x 0.2 -> normalised extents 0.4/0.7, 1, 0.2/0.7; voxel volume matches
    assert np.allclose(np.ptp(pts, axis=0), [0.4 / 0.7, 1.0, 0.2 / 0.7], atol=0.01)
    assert abs(item["voxels32"].mean() - (0.4 * 0.2 / 0.7 ** 2)) < 0.02
    cam = Camera.from_dict(item["cameras"][0])
    mask = pix3d_mask(pix3d_mesh(1), recs[1])
    uv, z = project(pts, cam)
    w, h = PIX3D_SIZE
    hit = mask[np.clip(uv[:, 1].astype(int), 0, h - 1), np.clip(uv[:, 0].astype(int), 0, w - 1)] > 0
    assert (z > 0).all() and hit.mean() > 0.97
    flipped = Camera(cam.K, np.diag([-1.0, 1, 1]) @ cam.R, np.diag([-1.0, 1, 1]) @ cam.t, w, h)  # no x-flip
    uv, _ = project(pts, flipped)
    assert (mask[np.clip(uv[:, 1].astype(int), 0, h - 1), np.clip(uv[:, 0].astype(int), 0, w - 1)] > 0).mean() < 0.9
    assert np.isclose(pix3d_camera(recs[0]).K[0, 0], 35.0 / 32 * 96) and pix3d_camera(recs[0]).K[1, 2] == 40.0


def test_pix3d_missing_and_corrupt_files(tmp_path):
    recs = make_pix3d(tmp_path, names=("0001", "0002", "0003"))
    (tmp_path / recs[1]["model"]).unlink()
    with pytest.raises(DatasetError, match="0002/model.obj"):
        Pix3DDataset(tmp_path, split="all")
    (tmp_path / recs[2]["mask"]).write_bytes(b"not a png")
    with pytest.warns(UserWarning) as rec:
        ds = Pix3DDataset(tmp_path, split="all", skip_bad=True)
    assert [r["img"] for r in ds.records] == [recs[0]["img"]]
    assert any("mask/chair/0003.png" in str(w.message) for w in rec)
    (tmp_path / recs[1]["model"]).write_text("v 0 0 0\n")  # a model with no faces
    with pytest.raises(DatasetError, match="0002/model.obj"):
        Pix3DDataset(tmp_path, split="all")[1]
    (tmp_path / "pix3d.json").write_text("[{")
    with pytest.raises(DatasetError, match="pix3d.json"):
        Pix3DDataset(tmp_path, split="all")


# --- ModelNet ------------------------------------------------------------------------------------------------

def test_modelnet_reader_glued_header_quads_and_up_axis(tmp_path):
    make_modelnet(tmp_path)
    mesh = read_off(tmp_path / "chair/train/chair_0001.off")  # "OFF8 6 0" + quads
    assert len(mesh.faces) == 12 and mesh.is_watertight and np.isclose(mesh.volume, 0.2 * 0.4 * 1.0)
    assert detect_layout(tmp_path) == "modelnet"
    ds = open_dataset(tmp_path, split="all", targets=("voxels32", "points"), points=2000)
    assert len(ds) == 2 and ds.categories == ["chair", "desk"]
    item = ds[0]
    assert item["category"] == "chair" and item["shape_id"] == "chair_0001" and item["category_index"] == 0
    assert item["points"].shape == (2000, 3) and item["points"].dtype == np.float32
    assert np.allclose(np.ptp(item["points"], axis=0), [0.2, 1.0, 0.4], atol=0.01)  # +Z up became +Y up
    assert item["voxels32"].dtype == np.float32 and abs(item["voxels32"].mean() - 0.2 * 0.4) < 0.02
    assert len(ModelNetDataset(tmp_path, split="all")) == 2
    with pytest.raises(DatasetError, match="no ModelNet"):
        ModelNetDataset(tmp_path, split="test")


def test_modelnet_bad_files(tmp_path):
    make_modelnet(tmp_path)
    bad = tmp_path / "chair/train/chair_0002.off"
    bad.write_text("OFF\n3 1 0\n0 0 0\n")  # truncated
    ds = ModelNetDataset(tmp_path, split="all")  # only headers are checked when opening
    with pytest.raises(DatasetError, match="chair_0002.off"):
        ds[1]
    with pytest.raises(DatasetError, match="chair_0002.off"):
        ModelNetDataset(tmp_path, split="all", validate=True)
    with pytest.warns(UserWarning, match="chair_0002.off"):
        assert len(ModelNetDataset(tmp_path, split="all", skip_bad=True)) == 2
    bad.write_text("ply\n")
    with pytest.raises(DatasetError, match="chair_0002.off"):
        ModelNetDataset(tmp_path, split="all")


def test_unknown_layout(tmp_path):
    with pytest.raises(DatasetError, match="unknown dataset layout"):
        detect_layout(tmp_path)
    with pytest.raises(DatasetError, match="unknown dataset layout"):
        open_dataset(tmp_path / "missing")


def test_modelnet_renders_into_a_lift3d_dataset(tmp_path):
    from lift3d.data.readers.modelnet import to_lift3d_dataset

    make_modelnet(tmp_path / "mn", classes=("bed", "desk"))
    m = to_lift3d_dataset(tmp_path / "mn", tmp_path / "ds", views=2, image_size=24, workers=1, quiet=True)
    assert sorted(m["categories"]) == ["bed", "desk"]
    assert detect_layout(tmp_path / "ds") == "lift3d"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        item = open_dataset(tmp_path / "ds", split="all", image_size=24)[0]
    assert item["images"].shape == (1, 3, 24, 24) and item["voxels32"].sum() > 0


def test_reader_items_batch_with_the_shared_collate(r2n2_root):
    from lift3d.data.dataset import collate

    ds = R2N2Dataset(r2n2_root, split="all", views=2, image_size=32)
    batch = collate([ds[0], ds[1]])
    assert tuple(batch["images"].shape) == (2, 2, 3, 32, 32) and tuple(batch["voxels32"].shape) == (2, 32, 32, 32)
    assert batch["shape_id"] == ["m1", "m2"] and len(batch["cameras"][1]) == 2


def test_modelnet_test_split_only_is_detected(tmp_path):
    make_modelnet(tmp_path, classes=("desk",), split="test")
    assert detect_layout(tmp_path) == "modelnet"
    assert len(open_dataset(tmp_path, split="test")) == 1
