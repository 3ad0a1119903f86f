"""Training: overfitting, exact resume, DDP, config errors, evaluation."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from lift3d.data.dataset import ShapeDataset
from lift3d.errors import InputError, Lift3DError
from lift3d.models.checkpoint import load_tensors
from lift3d.train.config import load_config, merge
from lift3d.train.evaluate import evaluate
from lift3d.train.trainer import Trainer, bf16_fast, resolve_amp


def _cfg(tiny_config: dict, out, **train) -> dict:
    return merge(tiny_config, {"train": {"out": str(out), **train}})


def test_tiny_model_overfits_eight_shapes(tiny_dataset, tiny_config, tmp_path):
    cfg = merge(tiny_config, {"data": {"batch_size": 8, "max_views": 1}, "optim": {"lr": 0.005},
                              "train": {"epochs": 120, "out": str(tmp_path)}})
    ds = ShapeDataset(tiny_dataset, "all", image_size=32, seed=0)
    ds.shapes = ds.shapes[:8]
    trainer = Trainer(cfg, ds, None, quiet=True)
    trainer.fit()
    res = evaluate(trainer.model, ds, views=1, thresholds=(0.3, 0.4, 0.5))
    assert res["iou_at"][res["best_threshold"]] > 0.9


def test_resume_equals_uninterrupted(tiny_dataset, tiny_config, tmp_path):
    train = ShapeDataset(tiny_dataset, "all", image_size=32, augment=True, seed=3)
    full = Trainer(_cfg(tiny_config, tmp_path / "full", epochs=3), train, None, quiet=True)
    full.fit()
    part = Trainer(_cfg(tiny_config, tmp_path / "part", epochs=3, max_minutes=1e-9), train, None, quiet=True)
    part.fit()  # the time budget stops it after epoch 1, like an interrupted run
    assert part.epoch == 1
    resumed = Trainer(_cfg(tiny_config, tmp_path / "part", epochs=3), train, None, quiet=True)
    resumed.fit(resume=True)
    assert resumed.epoch == 3
    a, _ = load_tensors(tmp_path / "full" / "last.safetensors")
    b, _ = load_tensors(tmp_path / "part" / "last.safetensors")
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-6), k


def test_validation_writes_best_checkpoint_and_logs(tiny_dataset, tiny_config, tmp_path):
    train = ShapeDataset(tiny_dataset, "train", image_size=32, augment=True)
    val = ShapeDataset(tiny_dataset, "val", image_size=32)
    row = Trainer(_cfg(tiny_config, tmp_path, epochs=2), train, val, quiet=True).fit()
    assert {"val_iou_1v", "val_iou_2v", "threshold", "final_val_iou"} <= set(row)
    assert (tmp_path / "best.safetensors").is_file() and (tmp_path / "metrics.csv").is_file()
    _, header = load_tensors(tmp_path / "final.safetensors")
    assert header["meta"]["bn_calibrated"] and "chair" in header["meta"]["val_per_category_1v"]
    assert list((tmp_path / "tensorboard").iterdir())
    assert len((tmp_path / "metrics.csv").read_text().strip().splitlines()) == 3


@pytest.mark.parametrize("optim", ["sgd", "adamw"])
def test_other_optimisers_and_schedules(tiny_dataset, tiny_config, tmp_path, optim):
    cfg = merge(tiny_config, {"optim": {"name": optim, "lr": 0.01}, "schedule": {"name": "onecycle"},
                              "train": {"epochs": 1, "out": str(tmp_path)}})
    row = Trainer(cfg, ShapeDataset(tiny_dataset, "train", image_size=32), None, quiet=True).fit()
    assert np.isfinite(row["loss"])


@pytest.mark.parametrize(("text", "match"), [
    ("optim: {name: rmsprop}\n", "optim.name"),
    ("optimiser: {}\n", "unknown config section"),
    ("data: [1, 2\n", "not valid YAML"),
    ("optim: {lr: -0.1}\n", "optim.lr must be a positive number"),
    ("schedule: {name: exponential}\n", "schedule.name"),
    ("- 1\n- 2\n", "mapping"),
    ("train: {amp: maybe}\n", "train.amp"),
    ("train: {epoch: 5}\n", "unknown config key.*train.epoch"),
    ("data: {imagesize: 64}\n", "data.imagesize"),
    ("optim: {name: adam, momentum: 0.9}\n", "optim.momentum"),
    ("schedule: {name: cosine, gamma: 0.5}\n", "schedule.gamma"),
    ("loss: {bce: 1.0, dice: 2.0}\n", "loss.dice"),
    ("loss: {name: hinge}\n", "loss.name"),
    ("model: {name: voxel, wings: 3}\n", "model.wings"),
    ("model: {name: nerf}\n", "model.name"),
    ("train: 5\n", "train must be a mapping"),
])
def test_config_errors(tmp_path, text, match):
    """Every key must be read by something: unknown sections, keys and names are one-line errors."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(Lift3DError, match=match):
        load_config(bad)


def test_bf16_autocast_and_periodic_validation(tiny_dataset, tiny_config, tmp_path):
    cfg = merge(tiny_config, {"train": {"epochs": 2, "amp": True, "val_every": 2, "out": str(tmp_path)}})
    trainer = Trainer(cfg, ShapeDataset(tiny_dataset, "train", image_size=32),
                      ShapeDataset(tiny_dataset, "val", image_size=32), quiet=True)
    row = trainer.fit()
    assert np.isfinite(row["loss"]) and "val_iou" in row
    assert "val_iou" not in trainer.history[0]  # epoch 1 was not validated


# ---------------------------------------------------------------- added: synthetic in-memory data

class SyntheticShapes:
    """In-memory stand-in for :class:`lift3d.data.dataset.ShapeDataset`: boxes and spheres at 32^3.

    View ``k`` is the silhouette seen along axis ``k % 3`` (dark shape on white), ``size`` px. Items hold numpy
    arrays, as ShapeDataset's do (``collate`` stacks arrays; other values stay lists).
    """

    categories = ["box", "sphere"]

    def __init__(self, n: int, seed: int = 0, size: int = 32, views: int = 3) -> None:
        rng = np.random.default_rng(seed)
        c = -0.5 + (np.arange(32) + 0.5) / 32
        x, y, z = np.meshgrid(c, c, c, indexing="ij")
        self.vox, self.cat = [], []
        for i in range(n):
            centre = rng.uniform(-0.1, 0.1, 3)
            if i % 2 == 0:
                half = rng.uniform(0.12, 0.4, 3)
                v = (abs(x - centre[0]) < half[0]) & (abs(y - centre[1]) < half[1]) & (abs(z - centre[2]) < half[2])
            else:
                v = (x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2 < rng.uniform(0.15, 0.38) ** 2
            self.vox.append(v.astype(np.float32))
            self.cat.append(i % 2)
        self.size, self.total_views, self.num_views, self.epoch = size, views, 1, 0

    def __len__(self) -> int:
        return len(self.vox)

    def set_num_views(self, v: int) -> None:
        self.num_views = max(1, min(int(v), self.total_views))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, i: int) -> dict:
        sil = [self.vox[i].max(axis=k) for k in range(3)]
        rep = self.size // 32
        masks = np.stack([np.kron(sil[k % 3], np.ones((rep, rep), np.float32)) for k in range(self.num_views)])
        images = np.repeat(1.0 - 0.8 * masks[:, None], 3, axis=1).astype(np.float32)
        return {"images": images, "masks": masks[:, None], "view_ids": np.arange(self.num_views),
                "voxels32": self.vox[i], "category": self.categories[self.cat[i]], "category_index": self.cat[i],
                "shape_id": f"s{i:03d}"}


def test_synthetic_shapes_overfit_and_per_category_eval(tiny_config, tmp_path):
    data = SyntheticShapes(8)
    cfg = merge(tiny_config, {"data": {"batch_size": 8, "max_views": 3}, "optim": {"lr": 0.005},
                              "train": {"epochs": 80, "out": str(tmp_path)}})
    trainer = Trainer(cfg, data, None, quiet=True)
    row = trainer.fit()
    assert row["loss"] < 0.5 and trainer.step == 80
    res = evaluate(trainer.model, data, views=3, thresholds=(0.3, 0.4, 0.5))
    assert res["iou_at"][res["best_threshold"]] > 0.9
    assert set(res["per_category"]) == {"box", "sphere"} and res["n"] == 8
    one = evaluate(trainer.model, data, views=1)
    assert one["views"] == 1 and 0.0 <= one["iou"] <= 1.0


def test_ddp_two_processes_and_checkpoint_rebuilds(tiny_dataset, tmp_path):
    """A 2-process gloo run finishes; its rank-0 checkpoint loads with load_model and predicts 32^3 logits."""
    from lift3d.models.checkpoint import load_model

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
           "-m", "lift3d.train.distributed", "configs/tiny.yaml", "--data", str(tiny_dataset), "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "best.safetensors").is_file()
    model, cfg, meta = load_model(tmp_path / "last.safetensors")
    assert meta["epoch"] == 2 and cfg["train"]["out"] == str(tmp_path)
    with torch.no_grad():
        assert model(torch.rand(1, 2, 3, 32, 32))["logits"].shape == (1, 32, 32, 32)
    assert len((tmp_path / "metrics.csv").read_text().strip().splitlines()) == 3  # only rank 0 logged


# ---------------------------------------------------------------- added: losses, hand-computed

def test_voxel_bce_by_hand():
    from lift3d.losses import voxel_bce

    logits, target = torch.zeros(1, 2, 2, 2), torch.ones(1, 2, 2, 2)
    assert voxel_bce(logits, target).item() == pytest.approx(np.log(2))
    assert voxel_bce(logits, target, pos_weight=3.0).item() == pytest.approx(3 * np.log(2))
    target[0, 0] = 0  # half empty: pos_weight scales only the occupied half
    assert voxel_bce(logits, target, pos_weight=3.0).item() == pytest.approx(2 * np.log(2))


def test_focal_loss_by_hand():
    from lift3d.losses import focal_loss

    # p = 0.5 everywhere: 2 * alpha_t * (1 - 0.5)^2 * log 2 = 0.25 log 2 for alpha 0.5, gamma 2
    assert focal_loss(torch.zeros(4), torch.tensor([1.0, 0, 1, 0])).item() == pytest.approx(0.25 * np.log(2))
    # a confident right answer (p_t = sigmoid(4)) is down-weighted by (1 - p_t)^2 relative to BCE
    p_t = 1 / (1 + np.exp(-4.0))
    expected = (1 - p_t) ** 2 * -np.log(p_t)
    assert focal_loss(torch.tensor([4.0]), torch.tensor([1.0])).item() == pytest.approx(expected, rel=1e-5)


def test_soft_iou_loss_by_hand():
    from lift3d.losses import soft_iou_loss

    big = 30.0  # sigmoid = 1 to float precision
    logits = torch.tensor([[big, big, -big, -big]])
    assert soft_iou_loss(logits, torch.tensor([[1.0, 1, 0, 0]]), eps=0).item() == pytest.approx(0.0, abs=1e-6)
    assert soft_iou_loss(logits, torch.tensor([[1.0, 0, 1, 0]]), eps=0).item() == pytest.approx(1 - 1 / 3)
    # probabilities 0.5 on 2 occupied voxels: inter 1, union 2 -> 0.5 (eps 1: 1 - 2/3)
    assert soft_iou_loss(torch.zeros(1, 2), torch.ones(1, 2), eps=0).item() == pytest.approx(0.5)
    assert soft_iou_loss(torch.zeros(1, 2), torch.ones(1, 2)).item() == pytest.approx(1 / 3)


def test_voxel_loss_combines_weights_and_coarse_term():
    from lift3d.losses import VoxelLoss

    out = {"logits": torch.zeros(1, 2, 2, 2), "coarse_logits": torch.zeros(1, 2, 2, 2)}
    target = torch.ones(1, 2, 2, 2)
    # BCE log 2, soft IoU 1 - (4 + 1) / (8 + 1) = 4/9; coarse term adds half of the same again
    one = 1.0 * np.log(2) + 0.5 * 4 / 9
    batch = {"voxels32": target}
    assert VoxelLoss(bce=1.0, iou=0.5, coarse=0.5)(out, batch).item() == pytest.approx(1.5 * one, rel=1e-6)
    assert VoxelLoss(bce=1.0, iou=0.5, coarse=0.0)(out, batch).item() == pytest.approx(one, rel=1e-6)
    same = {"logits": out["logits"], "coarse_logits": out["logits"]}  # no refiner: counted once
    assert VoxelLoss(bce=1.0, iou=0.0, coarse=0.5)(same, batch).item() == pytest.approx(np.log(2))
    focal = VoxelLoss(bce=0.0, focal=1.0, iou=0.0, coarse=0.0)(out, batch).item()
    assert focal == pytest.approx(0.25 * np.log(2))


# ---------------------------------------------------------------- added: optimiser, schedules, batches

def test_lr_schedules_by_hand():
    from lift3d.train.optim import build_schedule

    def lr_factor(step: int, total: int, per_epoch: int, cfg: dict) -> float:
        return build_schedule(cfg, total, per_epoch)(step)

    cos = {"name": "cosine", "warmup_steps": 10, "min_lr_ratio": 0.1}
    assert lr_factor(0, 110, 10, cos) == pytest.approx(0.1)  # warm-up (step + 1) / 10
    assert lr_factor(9, 110, 10, cos) == pytest.approx(1.0)
    assert lr_factor(10, 110, 10, cos) == pytest.approx(1.0)
    assert lr_factor(60, 110, 10, cos) == pytest.approx(0.1 + 0.9 * 0.5)  # half way down the cosine
    assert lr_factor(110, 110, 10, cos) == pytest.approx(0.1)
    step = {"name": "step", "warmup_steps": 0, "step_epochs": 2, "gamma": 0.5}
    assert [lr_factor(s, 100, 10, step) for s in (0, 19, 20, 45)] == [1.0, 1.0, 0.5, 0.25]
    one = {"name": "onecycle", "min_lr_ratio": 0.0}
    assert lr_factor(0, 100, 10, one) == pytest.approx(0.04)
    assert lr_factor(30, 100, 10, one) == pytest.approx(1.0)
    assert lr_factor(100, 100, 10, one) == pytest.approx(0.0, abs=1e-12)
    assert lr_factor(5, 100, 10, {"name": "constant", "warmup_steps": 0}) == 1.0


def test_build_optimizer_options():
    from lift3d.train.optim import build_optimizer

    params = [torch.nn.Parameter(torch.zeros(2))]
    sgd = build_optimizer(params, {"name": "sgd", "lr": 0.1, "momentum": 0.8, "weight_decay": 1e-4})
    assert isinstance(sgd, torch.optim.SGD)
    g = sgd.param_groups[0]
    assert (g["lr"], g["momentum"], g["weight_decay"], g["nesterov"]) == (0.1, 0.8, 1e-4, True)
    assert isinstance(build_optimizer(params, {"name": "adamw", "lr": 1e-3}), torch.optim.AdamW)
    assert type(build_optimizer(params, {"name": "adam", "lr": 1e-3})) is torch.optim.Adam


def test_epoch_batches_are_seeded_per_epoch(tiny_config, tmp_path):
    data = SyntheticShapes(10)
    cfg = merge(tiny_config, {"data": {"batch_size": 3, "max_views": 3}, "train": {"out": str(tmp_path)}})
    t = Trainer(cfg, data, None, quiet=True)
    e0, e1 = t.epoch_batches(0), t.epoch_batches(1)
    assert len(e0) == 3 and all(len(idx) == 3 for _, idx in e0)  # 10 // 3 full batches, the rest dropped
    assert e0 == Trainer(cfg, data, None, quiet=True).epoch_batches(0)  # a fresh trainer replays epoch 0
    assert e0 != e1
    flat = [i for _, idx in e0 for i in idx]
    assert len(set(flat)) == 9 and all(0 <= i < 10 for i in flat)
    views = [v for e in range(20) for v, _ in t.epoch_batches(e)]
    assert set(views) == {1, 2, 3}
    # view_probs weights the view counts: here V = 1 for about 70 % of the batches, never V = 2
    cfg = merge(cfg, {"data": {"batch_size": 1, "view_probs": [7, 0, 3]}})
    views = np.array([v for e in range(40) for v, _ in Trainer(cfg, data, None, quiet=True).epoch_batches(e)])
    assert set(views.tolist()) == {1, 3} and 0.6 < np.mean(views == 1) < 0.8
    with pytest.raises(InputError, match="view_probs"):
        load_config(None, merge(cfg, {"data": {"view_probs": [1, 1]}}))


def test_resume_without_checkpoint_starts_fresh(tiny_config, tmp_path):
    t = Trainer(merge(tiny_config, {"train": {"out": str(tmp_path / "empty")}}), SyntheticShapes(4), None, quiet=True)
    assert t.load_state(tmp_path / "empty") is False and t.epoch == 0


def test_state_checkpoint_round_trip(tiny_config, tmp_path):
    """Optimiser moments, step counters and the torch RNG come back from last_state.safetensors."""
    cfg = merge(tiny_config, {"train": {"epochs": 1, "out": str(tmp_path)}})
    t = Trainer(cfg, SyntheticShapes(8), None, quiet=True)
    t.fit()
    rng_after = torch.get_rng_state()
    back = Trainer(cfg, SyntheticShapes(8), None, quiet=True)
    assert back.load_state(tmp_path)
    assert (back.epoch, back.step) == (1, t.step) and torch.equal(torch.get_rng_state(), rng_after)
    a, b = t.opts["main"].state_dict()["state"], back.opts["main"].state_dict()["state"]
    assert a.keys() == b.keys()
    for pid in a:
        assert torch.equal(a[pid]["exp_avg_sq"], b[pid]["exp_avg_sq"])


def test_mesh_scores_of_spheres():
    """Marching-cubes mesh of a voxel sphere vs points on that mesh: F@0.02 ~ 1; a sphere 0.1 larger: Chamfer ~ 0.1."""
    from lift3d.geometry.sampling import sample_surface
    from lift3d.geometry.voxels import voxels_to_mesh
    from lift3d.tasks.base import mesh_scores

    c = -0.5 + (np.arange(32) + 0.5) / 32
    r2 = sum(a**2 for a in np.meshgrid(c, c, c, indexing="ij"))
    small, big = (r2 <= 0.3**2).astype(np.float32), (r2 <= 0.4**2).astype(np.float32)
    gt, _ = sample_surface(voxels_to_mesh(small, 0.5), 5000, seed=1)
    same = mesh_scores(sample_surface(voxels_to_mesh(small, 0.5), 10000, seed=0)[0], gt)
    assert same["fscore@0.02"] > 0.99 and same["chamfer_l1"] < 0.01
    off = mesh_scores(sample_surface(voxels_to_mesh(big, 0.5), 10000, seed=0)[0], gt)
    assert off["fscore@0.02"] == 0.0 and off["chamfer_l1"] == pytest.approx(0.1, abs=0.01)
    assert mesh_scores(None, gt) == {"fscore@0.01": 0.0, "fscore@0.02": 0.0, "chamfer_l1": 1.0}


def test_missing_config_and_image_size_reaches_the_model(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    loaded = load_config("configs/tiny.yaml", {"data": {"image_size": 48}})
    assert loaded["model"]["image_size"] == 48 and loaded["train"]["calibrate_bn"] == 2  # file over defaults


def test_trainer_rejects_an_empty_training_set(tiny_config, tmp_path):
    with pytest.raises(InputError, match="empty"):
        Trainer(merge(tiny_config, {"train": {"out": str(tmp_path)}}), SyntheticShapes(0), None, quiet=True)


# ---------------------------------------------------------------- added: CLI

def _cli(args: list[str]) -> int:
    from lift3d.cli import main

    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_cli_evaluate_all_filled_prediction(tiny_checkpoint, tiny_dataset, tmp_path, capsys):
    """The tiny checkpoint fills the whole grid, so each shape's IoU is its occupied fraction of 32^3."""
    import json

    out = tmp_path / "m.json"
    code = _cli(["evaluate", str(tiny_checkpoint), str(tiny_dataset), "--split", "all", "--views", "2",
                 "--no-fscore", "--json", str(out), "--quiet"])
    assert code == 0
    res = json.loads(out.read_text())
    ds = ShapeDataset(tiny_dataset, "all", image_size=32)
    fractions = [ds[i]["voxels32"].mean() for i in range(len(ds))]
    assert res["n"] == len(ds) and res["views"] == 2
    assert res["iou"] == pytest.approx(float(np.mean(fractions)), abs=1e-6)
    assert "mean" in capsys.readouterr().out


def test_cli_train_then_evaluate_with_fscore(tiny_dataset, tmp_path, capsys):
    import json

    run = tmp_path / "run"
    assert _cli(["train", "configs/tiny.yaml", "--data", str(tiny_dataset), "--out", str(run), "--epochs", "1",
                 "--quiet"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["epoch"] == 1 and np.isfinite(row["loss"])
    assert {p.name for p in run.glob("*.safetensors")} == {"last.safetensors", "last_state.safetensors",
                                                            "best.safetensors", "final.safetensors"}
    out = tmp_path / "e.json"
    assert _cli(["evaluate", str(run / "final.safetensors"), str(tiny_dataset), "--split", "test", "--json",
                 str(out), "--quiet"]) == 0
    res = json.loads(out.read_text())
    assert 0.0 <= res["fscore@0.01"] <= 1.0 and res["chamfer_l1"] > 0 and set(res["per_category"]) <= {
        "chair", "table", "bottle", "car"}


def test_cli_bad_config_is_one_line_exit_2(tmp_path, capsys):
    assert _cli(["train", str(tmp_path / "missing.yaml"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lift3d: error: config file not found") and len(err.splitlines()) == 1
    assert _cli(["evaluate", str(tmp_path / "none.safetensors"), str(tmp_path)]) == 2
    assert "checkpoint not found" in capsys.readouterr().err


def test_amp_auto_follows_the_cpu_and_bad_values_are_refused():
    assert resolve_amp("auto") == bf16_fast()
    assert resolve_amp(True) is True and resolve_amp(False) is False
    assert load_config(None)["train"]["amp"] == "auto"
    with pytest.raises(InputError, match="train.amp"):
        load_config(None, {"train": {"amp": "maybe"}})
