"""Real-dataset readers on tiny fixtures written in each layout (no third-party data is committed)."""

import json
import warnings

import numpy as np
import pytest
import trimesh
from PIL import Image

from lift3d.data.readers import detect_layout, open_dataset
from lift3d.data.readers.modelnet import ModelNetDataset, read_off
from lift3d.data.readers.pix3d import pix3d_camera
from lift3d.data.readers.r2n2 import R2N2Dataset, r2n2_camera
from lift3d.data.render import render_views
from lift3d.errors import DatasetError
from lift3d.geometry.cameras import project
from lift3d.io.voxels import save_voxels


def _l_grid() -> np.ndarray:
    g = np.zeros((32, 32, 32), bool)
    g[2:20, 3, 4] = True  # a bar along x
    g[2, 3:30, 4] = True  # a taller bar along y
    return g


def _r2n2(root, models=("m1", "m2"), synset="03001627"):
    meta = [(30.0, 25.0, 0.0, 0.8, 25.0), (120.0, 10.0, 0.0, 0.9, 25.0)]
    for mid in models:
        rdir = root / "ShapeNetRendering" / synset / mid / "rendering"
        rdir.mkdir(parents=True)
        (rdir / "rendering_metadata.txt").write_text("\n".join(" ".join(map(str, m)) for m in meta) + "\n")
        cams = [r2n2_camera(a, e, d, f) for a, e, _, d, f in meta]
        for v, view in enumerate(render_views(trimesh.creation.box(extents=(0.5, 0.8, 0.3)), cams, 0)):
            Image.fromarray(view.rgba, "RGBA").save(rdir / f"{v:02d}.png")
        vdir = root / "ShapeNetVox32" / synset / mid
        vdir.mkdir(parents=True)
        save_voxels(vdir / "model.binvox", _l_grid())
    return meta


def test_r2n2_reader_round_trip(tmp_path):
    meta = _r2n2(tmp_path)
    assert detect_layout(tmp_path) == "r2n2"
    ds = open_dataset(tmp_path, views=2, image_size=48)
    assert len(ds) == 2
    item = ds[0]
    assert item["category"] == "chair" and item["images"].shape == (2, 3, 48, 48)
    assert np.array_equal(item["voxels32"] > 0.5, _l_grid())  # orientation preserved exactly
    cam = item["cameras"][1]
    ref = r2n2_camera(*meta[1][:2], meta[1][3], meta[1][4]).to_dict()
    assert np.allclose(cam["R"], ref["R"], atol=1e-9) and np.allclose(cam["t"], ref["t"], atol=1e-9)
    eye = -np.asarray(cam["R"]).T @ np.asarray(cam["t"])
    assert np.isclose(np.linalg.norm(eye), 0.9 * 1.75)  # distance = ratio * 1.75
    assert np.isclose(np.degrees(np.arcsin(eye[1] / np.linalg.norm(eye))), 10.0)  # elevation


def test_r2n2_corrupt_and_skip_bad(tmp_path):
    _r2n2(tmp_path)
    (tmp_path / "ShapeNetVox32/03001627/m2/model.binvox").unlink()
    with pytest.raises(DatasetError, match="m2/model.binvox"):
        R2N2Dataset(tmp_path)
    with pytest.warns(UserWarning, match="skipped"):
        assert len(R2N2Dataset(tmp_path, skip_bad=True)) == 1
    (tmp_path / "ShapeNetRendering/03001627/m1/rendering/01.png").write_bytes(b"broken")
    with pytest.raises(DatasetError, match="01.png"):
        R2N2Dataset(tmp_path, views=2, skip_bad=True)[0]


def test_pix3d_camera_projects_the_model_onto_its_mask(tmp_path):
    mesh = trimesh.creation.box(extents=(0.4, 0.6, 0.2))
    mesh.apply_translation([3.0, 1.0, -2.0])  # Pix3D models are not centred: the reader normalises them
    rec = {"img": "img/0001.png", "mask": "mask/0001.png", "model": "model/chair/a.obj", "category": "chair",
           "img_size": [96, 80], "focal_length": 35.0,
           "rot_mat": trimesh.transformations.rotation_matrix(0.4, [0, 1, 0])[:3, :3].tolist(),
           "trans_mat": [-3.0, -1.0, 6.0]}
    for sub in ("img", "mask", "model/chair"):
        (tmp_path / sub).mkdir(parents=True)
    mesh.export(tmp_path / rec["model"])
    # Render the photo with the Pix3D convention by hand: u = w/2 - f x/z, v = h/2 - f y/z.
    pts = trimesh.sample.sample_surface(mesh, 20000, seed=0)[0]
    xc = pts @ np.asarray(rec["rot_mat"]).T + rec["trans_mat"]
    f = 35.0 / 32 * 96
    u = (48 - f * xc[:, 0] / xc[:, 2]).astype(int)
    v = (40 - f * xc[:, 1] / xc[:, 2]).astype(int)
    mask = np.zeros((80, 96), np.uint8)
    mask[v.clip(0, 79), u.clip(0, 95)] = 255
    Image.fromarray(np.dstack([mask, mask // 2, mask // 3])).save(tmp_path / rec["img"])
    Image.fromarray(mask).save(tmp_path / rec["mask"])
    (tmp_path / "pix3d.json").write_text(json.dumps([rec]))
    item = open_dataset(tmp_path, image_size=32)[0]
    assert item["voxels32"].sum() > 0 and np.allclose(np.ptp(item["points"], axis=0).max(), 1.0, atol=0.01)
    from lift3d.geometry.cameras import Camera

    cam = Camera.from_dict(item["cameras"][0])
    uv, z = project(item["points"], cam)
    hit = mask[np.clip(uv[:, 1].astype(int), 0, 79), np.clip(uv[:, 0].astype(int), 0, 95)] > 0
    assert (z > 0).all() and hit.mean() > 0.95
    assert np.allclose(pix3d_camera(rec).K[0, 0], f)


def test_modelnet_reader_and_broken_off_header(tmp_path):
    d = tmp_path / "chair" / "train"
    d.mkdir(parents=True)
    box = trimesh.creation.box(extents=(0.2, 0.4, 1.0))  # tall along +Z, like ModelNet's +Z up
    head = f"OFF{len(box.vertices)} {len(box.faces)} 0\n"  # ModelNet's glued header
    body = "".join(f"{x} {y} {z}\n" for x, y, z in box.vertices) + "".join(f"3 {a} {b} {c}\n" for a, b, c in box.faces)
    (d / "chair_0001.off").write_text(head + body)
    (d / "chair_0002.off").write_text("OFF\n3 1 0\n0 0 0\n")  # truncated
    assert read_off(d / "chair_0001.off").is_watertight
    with pytest.raises(DatasetError, match="chair_0002.off"):
        ModelNetDataset(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = open_dataset(tmp_path, skip_bad=True)
    item = ds[0]
    assert item["category"] == "chair" and item["points"].shape[1] == 3
    ext = np.ptp(item["points"], axis=0)
    assert np.allclose(ext, [0.2, 1.0, 0.4], atol=0.01)  # +Z up became +Y up (and old +Y became -Z)


def test_unknown_layout(tmp_path):
    with pytest.raises(DatasetError, match="unknown dataset layout"):
        detect_layout(tmp_path)


def test_modelnet_renders_into_a_lift3d_dataset(tmp_path):
    from lift3d.data.readers.modelnet import to_lift3d_dataset

    for cls in ("bed", "desk"):
        d = tmp_path / "mn" / cls / "train"
        d.mkdir(parents=True)
        box = trimesh.creation.box(extents=(0.3, 0.5, 1.0) if cls == "bed" else (1.0, 0.5, 0.3))
        box.export(d / f"{cls}_0001.off")
    m = to_lift3d_dataset(tmp_path / "mn", tmp_path / "ds", views=2, image_size=24, workers=1, quiet=True)
    assert sorted(m["categories"]) == ["bed", "desk"]
    item = open_dataset(tmp_path / "ds", split="all", image_size=24)[0]
    assert item["images"].shape == (1, 3, 24, 24) and item["voxels32"].sum() > 0
