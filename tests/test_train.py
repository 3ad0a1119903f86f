"""Training: overfitting, exact resume, DDP, config errors, evaluation."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from lift3d.data.dataset import ShapeDataset
from lift3d.errors import InputError
from lift3d.models.checkpoint import load_tensors
from lift3d.train.config import load_config, merge
from lift3d.train.evaluate import evaluate
from lift3d.train.trainer import Trainer


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


def test_config_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("optim: {name: rmsprop}\n")
    with pytest.raises(InputError, match="optim.name"):
        load_config(bad)
    bad.write_text("optimiser: {}\n")
    with pytest.raises(InputError, match="unknown config section"):
        load_config(bad)
    bad.write_text("data: [1, 2\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(InputError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_ddp_two_processes(tiny_dataset, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
           "-m", "lift3d.train.distributed", "configs/tiny.yaml", "--data", str(tiny_dataset), "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "last.safetensors").is_file() and (tmp_path / "best.safetensors").is_file()


def test_bf16_autocast_and_periodic_validation(tiny_dataset, tiny_config, tmp_path):
    cfg = merge(tiny_config, {"train": {"epochs": 2, "amp": True, "val_every": 2, "out": str(tmp_path)}})
    trainer = Trainer(cfg, ShapeDataset(tiny_dataset, "train", image_size=32),
                      ShapeDataset(tiny_dataset, "val", image_size=32), quiet=True)
    row = trainer.fit()
    assert np.isfinite(row["loss"]) and "val_iou" in row
    assert "val_iou" not in trainer.history[0]  # epoch 1 was not validated
