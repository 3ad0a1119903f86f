"""The PSGN-style point-set model on the model contract: losses, model, task, training and `lift3d reconstruct`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh
from PIL import Image

from lift3d.errors import InputError
from lift3d.losses import LOSSES
from lift3d.losses.points import chamfer_l2, emd
from lift3d.tasks.base import Prediction

TINY = "configs/tiny_points.yaml"


def test_chamfer_gradcheck_and_agrees_with_dense_chamfer():
    from lift3d.metrics.points import chamfer_loss

    g = torch.Generator().manual_seed(0)
    a = torch.rand(2, 6, 3, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.rand(2, 9, 3, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(chamfer_l2, (a, b))
    ours = chamfer_l2(a, b).mean()
    ga, gb = torch.autograd.grad(ours, (a, b))
    dense = chamfer_loss(a, b)
    da, db = torch.autograd.grad(dense, (a, b))
    assert torch.allclose(ours, dense) and torch.allclose(ga, da) and torch.allclose(gb, db)


@pytest.mark.parametrize("p", [1, 2])
def test_emd_exact_matches_scipy_assignment_and_has_gradient(p):
    from lift3d.metrics.emd import emd_exact

    g = torch.Generator().manual_seed(1)
    a = torch.rand(3, 24, 3, generator=g, requires_grad=True)
    b = torch.rand(3, 24, 3, generator=g)
    loss = emd(a, b, "exact", p=p)
    ref = [emd_exact(x, y, p=p) for x, y in zip(a.detach().numpy(), b.numpy(), strict=True)]
    assert np.allclose(loss.detach().numpy(), ref, atol=1e-5)
    loss.mean().backward()
    assert a.grad.abs().sum() > 0


def test_emd_sinkhorn_is_close_to_exact():
    g = torch.Generator().manual_seed(2)
    a, b = torch.rand(2, 64, 3, generator=g), torch.rand(2, 64, 3, generator=g) * 0.5
    exact = emd(a, b, "exact")
    approx = emd(a, b, "sinkhorn", blur=0.005, scaling=0.9)
    assert torch.allclose(approx, exact, rtol=0.05)


def test_losses_by_name_subsample_targets_and_refuse_bad_input():
    torch.manual_seed(0)
    out = {"points": torch.rand(2, 40, 3, requires_grad=True)}
    batch = {"points": torch.rand(2, 500, 3)}
    loss = LOSSES.build_config({"name": "points", "emd": 0.5, "target_points": 100, "emd_points": 16})
    value = loss(out, batch)
    assert value.dim() == 0 and set(loss.terms) == {"chamfer", "emd"}
    assert np.isclose(float(value.detach()), loss.terms["chamfer"] + 0.5 * loss.terms["emd"], rtol=1e-5)
    value.backward()
    assert out["points"].grad.abs().sum() > 0
    assert LOSSES.build("emd", method="exact")(out, batch) > 0  # target subsampled to N = 40
    with pytest.raises(InputError, match="at least one"):
        LOSSES.build("points", chamfer=0.0, emd=0.0)
    with pytest.raises(InputError, match="ground-truth points"):
        LOSSES.build("emd")(out, {"points": torch.rand(2, 10, 3)})


def test_shipped_config_is_valid():
    from lift3d.tasks import task_from_config
    from lift3d.train.config import load_config

    cfg = load_config("configs/points.yaml")
    task = task_from_config(cfg)
    assert task.name == "points" and task.targets == ("points",) and not task.thresholded


@pytest.fixture(scope="module")
def tiny_model():
    from lift3d.models.registry import build_model
    from lift3d.train.config import load_config

    torch.manual_seed(0)
    return build_model(load_config(TINY)["model"]).eval()


def test_model_any_number_of_views_order_invariant_and_bounded(tiny_model):
    torch.manual_seed(0)
    images = torch.rand(2, 4, 3, 32, 32)
    with torch.no_grad():
        for v in range(1, 5):
            pts = tiny_model(images[:, :v])["points"]
            assert pts.shape == (2, 96, 3) and pts.abs().max() <= 0.55
        ref = tiny_model(images)["points"]
        shuffled = tiny_model(images[:, [2, 0, 3, 1]])["points"]
    assert torch.allclose(ref, shuffled, atol=1e-6)
    assert tiny_model(images[:1, 0])["points"].shape == (1, 96, 3)  # one (B, 3, H, W) view


def test_decoder_overfits_a_few_shapes():
    from lift3d.models.points import PointSetDecoder

    torch.manual_seed(0)
    meshes = [trimesh.creation.icosphere(2, radius=0.4), trimesh.creation.box((0.8, 0.3, 0.5)),
              trimesh.creation.cylinder(0.2, 0.9)]
    targets = torch.stack([torch.from_numpy(m.sample(512, seed=i)).float() for i, m in enumerate(meshes)])
    codes = torch.randn(3, 16)
    dec = PointSetDecoder(16, points=320, hidden=64, map_channels=(32, 16, 8))  # 64 fc + 16x16 points
    opt = torch.optim.Adam(dec.parameters(), lr=3e-3)
    start = float(chamfer_l2(dec(codes), targets).mean().detach())
    for _ in range(150):
        loss = chamfer_l2(dec(codes), targets).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    final = float(chamfer_l2(dec(codes), targets).mean().detach())
    assert final < 0.05 * start and final < 2e-3, (start, final)


def test_task_meshes_points_and_voxels_of_a_sphere(sphere):
    from lift3d.geometry.voxels import mesh_to_voxels
    from lift3d.metrics import fscore
    from lift3d.tasks import TASKS

    task = TASKS.build("points")
    pred = Prediction("points", points=sphere.sample(2048, seed=0).astype(np.float32))
    mesh = task.to_mesh(pred)
    assert mesh is not None and fscore(mesh.sample(5000, seed=0), sphere.sample(5000, seed=1), 0.02) > 0.9
    pts, normals = task.to_points(pred, mesh)
    assert pts.shape == normals.shape == (2048, 3)
    assert (np.sum(pts * normals, axis=1) > 0).mean() > 0.95  # outward
    vox, gt = task.to_voxels(pred, mesh), mesh_to_voxels(sphere, 32)
    assert (vox & gt).sum() / (vox | gt).sum() > 0.9
    assert task.to_voxels(pred, None).sum() > 100  # no mesh: the cells holding points
    with pytest.raises(InputError, match="do not apply"):
        task.check_options({"resolution": 64})


@pytest.fixture
def rgba_image(tmp_path):
    """A green square with a transparent background (RGBA): the alpha channel is the mask."""
    img = np.zeros((80, 80, 4), np.uint8)
    img[20:60, 25:55] = (40, 160, 60, 255)
    path = tmp_path / "square.png"
    Image.fromarray(img).save(path)
    return path


@pytest.fixture(scope="module")
def trained(tiny_dataset, tmp_path_factory):
    """One epoch of configs/tiny_points.yaml on the tiny dataset -> (last epoch's row, final checkpoint)."""
    from lift3d.tasks import task_from_config
    from lift3d.train.config import load_config
    from lift3d.train.run import datasets_from_config
    from lift3d.train.trainer import Trainer

    cfg = load_config(TINY, {"data": {"root": str(tiny_dataset)}})
    train, val = datasets_from_config(cfg, targets=task_from_config(cfg).targets)
    out = tmp_path_factory.mktemp("points_run")
    return Trainer(cfg, train, val, out=out, quiet=True).fit(), out / "final.safetensors"


def test_training_epoch_writes_a_calibrated_final_checkpoint(trained):
    from lift3d.models.checkpoint import load_model

    row, ckpt = trained
    assert {"loss", "train_chamfer", "train_emd", "val_fscore_1v", "val_fscore_2v", "final_val_fscore"} <= set(row)
    model, _, meta = load_model(ckpt)
    assert model.task == "points" and meta["bn_calibrated"] and 0.0 <= meta["val_score"] <= 1.0


def run_cli(capsys, *args) -> tuple[int, str]:
    from lift3d.cli import main

    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    return exc.value.code or 0, capsys.readouterr().err


def test_threshold_is_refused(tmp_path, rgba_image, trained, capsys):
    code, err = run_cli(capsys, "reconstruct", rgba_image, "-o", tmp_path / "t.glb", "--checkpoint", trained[1],
                        "--threshold", "0.4")
    assert code == 2 and "does not apply" in err and not (tmp_path / "t.glb").exists()


def test_reconstruct_every_kind_through_the_cli(tmp_path, rgba_image, trained, capsys):
    from lift3d.io.voxels import load_voxels

    for ext in (".ply", ".xyz", ".glb", ".binvox"):
        out = tmp_path / f"model{ext}"
        code, err = run_cli(capsys, "reconstruct", rgba_image, "-o", out, "--checkpoint", trained[1])
        assert code == 0, err
        assert out.is_file() and out.stat().st_size > 0
    assert len((tmp_path / "model.xyz").read_text().splitlines()) == 96  # the model's own points
    assert load_voxels(tmp_path / "model.binvox").occupancy.shape == (32, 32, 32)


def test_evaluate_reports_point_and_mesh_metrics(tiny_dataset, tiny_model):
    from lift3d.data.dataset import ShapeDataset
    from lift3d.tasks import task_for_model

    ds = ShapeDataset(tiny_dataset, split="test", targets=("points",), image_size=32)
    res = task_for_model(tiny_model).evaluate(tiny_model, ds, views=2, fscore=True, limit=2, batch_size=2)
    assert res["n"] == 2 and len(res["per_category"]) == 2
    for k in ("fscore@0.01", "fscore@0.02", "chamfer_l1", "normal_consistency", "mesh_fscore@0.01"):
        assert np.isfinite(res[k]), k
    assert res["score"] == res["fscore@0.01"]
