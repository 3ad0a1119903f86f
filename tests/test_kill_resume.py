"""Crash-safe resume: SIGKILL a command at a random-ish point, re-run it, and get what an uninterrupted run with the
same seed gives (training: the same weights; data generation: the same bytes; evaluation: the same metrics, with no
half-written output), losing at most the work since the last checkpoint. A resume with settings that change the
result is refused, naming them."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from lift3d.cli import main
from lift3d.data.generate import SETTINGS_FILE, generate_dataset
from lift3d.errors import InputError
from lift3d.models.checkpoint import load_tensors
from test_no_hangs import ENV, TIMEOUT_S, kill_group


def run_cli(*args) -> int:
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def start_cli():
    """``start_cli(*args)`` -> ``lift3d ARGS`` running in its own process group (so a kill reaches its worker
    processes too); whatever is left of the group is killed when the test ends, pass or fail."""
    procs: list[subprocess.Popen] = []

    def start(*args, stderr=subprocess.DEVNULL) -> subprocess.Popen:
        procs.append(subprocess.Popen([sys.executable, "-m", "lift3d.cli", *map(str, args)], env=ENV,
                                      start_new_session=True, stdout=subprocess.DEVNULL, stderr=stderr))
        return procs[-1]

    yield start
    for proc in procs:
        kill_group(proc)


def kill_when(proc: subprocess.Popen, ready, delay_s: float) -> None:
    """SIGKILL ``proc``'s process group ``delay_s`` after ``ready()`` first holds; fails if it exits first."""
    deadline = time.monotonic() + TIMEOUT_S
    while not ready():
        assert proc.poll() is None, "the command finished before the kill point"
        assert time.monotonic() < deadline, "the kill point never came"
        time.sleep(0.01)
    time.sleep(delay_s)
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=TIMEOUT_S) == -signal.SIGKILL


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- training


def test_training_killed_after_a_checkpoint_resumes_to_the_same_weights(tiny_dataset, tmp_path, start_cli):
    args = ["train", "configs/tiny.yaml", "--data", tiny_dataset, "--epochs", 4, "--quiet"]
    assert run_cli(*args, "--out", tmp_path / "full") == 0
    run = tmp_path / "killed"
    proc = start_cli(*args, "--out", run)
    kill_when(proc, lambda: (run / "last_state.safetensors").is_file(), random.Random(1).uniform(0, 0.2))
    _, header = load_tensors(run / "last_state.safetensors")
    assert 1 <= header["epoch"] < 4 and not (run / "final.safetensors").exists()
    assert run_cli(*args, "--out", run, "--resume") == 0
    for name in ("last", "best", "final"):
        a, meta_a = load_tensors(tmp_path / "full" / f"{name}.safetensors")
        b, meta_b = load_tensors(run / f"{name}.safetensors")
        assert a.keys() == b.keys()
        for k in a:
            assert torch.allclose(a[k].float(), b[k].float(), atol=1e-6), (name, k)
        assert meta_a["meta"]["epoch"] == meta_b["meta"]["epoch"]
    assert not list(run.glob(".*.tmp*"))  # no temporary file of an interrupted write is left


def test_a_crash_between_the_weights_and_the_state_file_resumes_from_the_complete_epoch(tiny_dataset, tiny_config,
                                                                                         tmp_path, monkeypatch):
    """last_state.safetensors (weights + optimiser + RNG) is the commit point: a crash after last.safetensors of
    epoch 2 was written but before its state replays epoch 2 from the state of epoch 1, to the same weights."""
    import lift3d.train.trainer as trainer_mod
    from lift3d.data.dataset import ShapeDataset
    from lift3d.train.config import merge
    from lift3d.train.trainer import Trainer

    data = ShapeDataset(tiny_dataset, "all", image_size=32, augment=True, seed=1)
    cfg = merge(tiny_config, {"train": {"epochs": 3, "calibrate_bn": 0}})
    Trainer(merge(cfg, {"train": {"out": str(tmp_path / "full")}}), data, None, quiet=True).fit()
    real, calls = trainer_mod.save_tensors, []

    def crash_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process dies here
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer_mod, "save_tensors", crash_on_second)
    part = merge(cfg, {"train": {"out": str(tmp_path / "part")}})
    with pytest.raises(KeyboardInterrupt):
        Trainer(part, data, None, quiet=True).fit()
    assert load_tensors(tmp_path / "part/last.safetensors")[1]["meta"]["epoch"] == 2  # newer than the state
    assert load_tensors(tmp_path / "part/last_state.safetensors")[1]["epoch"] == 1
    monkeypatch.setattr(trainer_mod, "save_tensors", real)
    Trainer(part, data, None, quiet=True).fit(resume=True)
    a, b = load_tensors(tmp_path / "full/last.safetensors")[0], load_tensors(tmp_path / "part/last.safetensors")[0]
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-6) for k in a)


def test_training_resume_with_a_different_config_is_refused_naming_the_keys(tiny_dataset, tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "configs/tiny.yaml", "--data", tiny_dataset, "--out", run, "--quiet"]
    assert run_cli(*args, "--epochs", 1) == 0
    capsys.readouterr()
    assert run_cli(*args, "--epochs", 2, "--resume") == 2
    err = capsys.readouterr().err.strip()
    assert "cannot resume" in err and "train.epochs: 1 -> 2" in err and "\n" not in err
    other = tmp_path / "other.yaml"
    other.write_text(Path("configs/tiny.yaml").read_text().replace("lr: 0.003", "lr: 0.01"))
    assert run_cli("train", other, "--data", tiny_dataset, "--out", run, "--epochs", 1, "--resume") == 2
    assert "optim.lr: 0.003 -> 0.01" in capsys.readouterr().err
    # a time budget or thread count does not change what is computed: that resume goes ahead (nothing left to do)
    assert run_cli(*args, "--epochs", 1, "--max-minutes", 30, "--resume") == 0


# ---------------------------------------------------------------- data generation


GEN = ["data", "generate", "--categories", "mug,bottle", "-n", 3, "--views", 2, "--image-size", 32, "--seed", 5,
       "--quiet"]


def test_generation_killed_after_some_shapes_resumes_to_identical_bytes(tmp_path, start_cli):
    assert run_cli(*GEN, "--out", tmp_path / "full", "-j", 1) == 0
    out = tmp_path / "killed"
    proc = start_cli(*GEN, "--out", out, "-j", 2)
    written = lambda: len([p for p in (out / "shapes").glob("[!.]*")]) >= 2 if (out / "shapes").is_dir() else False  # noqa: E731
    kill_when(proc, written, random.Random(2).uniform(0, 0.3))
    assert not (out / "manifest.json").exists()  # killed mid-run
    assert run_cli(*GEN, "--out", out, "-j", 1) == 0
    assert files(out) == files(tmp_path / "full")  # every file, manifest included; no temporary folder left


def test_generation_resume_with_other_settings_is_refused_naming_them(tmp_path):
    out = tmp_path / "ds"
    kw = dict(categories=["mug"], shapes_per_category=1, views=1, image_size=16, workers=1, points=256,
              occ_samples=128, quiet=True)
    generate_dataset(out, **kw)
    (out / "manifest.json").unlink()  # as if killed before the manifest: the settings file still guards the folder
    with pytest.raises(InputError, match=r"image_size 16, not 24; .*points 256, not 512") as info:
        generate_dataset(out, **{**kw, "image_size": 24, "points": 512})
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match=r"seed 0, not 1"):
        generate_dataset(out, **{**kw, "seed": 1})
    with pytest.raises(InputError, match=r"elevation \[-10\.0, 50\.0\], not \[0, 30\]"):
        generate_dataset(out, **{**kw, "elevation": (0, 30)})
    m = generate_dataset(out, **{**kw, "shapes_per_category": 2})  # more shapes of the same settings: fine
    assert len(m["shapes"]) == 2 and json.loads((out / SETTINGS_FILE).read_text())["image_size"] == 16


# ---------------------------------------------------------------- evaluation


def test_evaluation_killed_midway_leaves_no_output_and_reruns_to_the_same_metrics(tiny_checkpoint, tiny_dataset,
                                                                                  tmp_path, start_cli):
    """Evaluation has no resume: it writes only its JSON, atomically at the end, and is deterministic, so a killed
    run leaves nothing behind and the rerun gives the uninterrupted result (a minute of work at most is lost)."""
    args = ["evaluate", tiny_checkpoint, tiny_dataset, "--split", "all", "--views", 2]
    assert run_cli(*args, "--json", tmp_path / "full.json", "--quiet") == 0
    out = tmp_path / "killed.json"
    proc = start_cli(*args, "--json", out, stderr=subprocess.PIPE)
    started = threading.Event()

    def watch() -> None:  # the progress bar on stderr says the evaluation loop has begun
        seen = b""
        while chunk := proc.stderr.read1(256):
            seen = (seen + chunk)[-64:]
            if b"eval" in seen:
                started.set()

    threading.Thread(target=watch, daemon=True).start()
    kill_when(proc, started.is_set, random.Random(3).uniform(0, 0.2))
    assert not out.exists() and not list(tmp_path.glob(".killed*"))
    assert run_cli(*args, "--json", out, "--quiet") == 0
    assert json.loads(out.read_text()) == json.loads((tmp_path / "full.json").read_text())
