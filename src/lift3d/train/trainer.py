"""The training loop: seeded, resumable, time-budgeted, single process or DistributedDataParallel.

Determinism and exact resume: the batch order, the number of views of each batch and every augmentation
draw are functions of ``(seed, epoch, index)``, so a run resumed from an epoch checkpoint replays exactly
what an uninterrupted run would have done. Checkpoints (written atomically, rank 0 only):

* ``last.safetensors`` / ``last_state.safetensors``: weights, and optimiser + scheduler + RNG state;
* ``best.safetensors``: the weights with the best validation score (the task's metric, e.g. IoU; config + metrics
  in the header);
* ``final.safetensors``: the last weights with re-estimated batch-norm statistics and the validation-chosen
  threshold (:mod:`lift3d.train.calibrate`) — the checkpoint to ship;
* ``metrics.csv`` and TensorBoard event files.
"""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from lift3d.data.dataset import collate
from lift3d.errors import DatasetError, InputError, Lift3DError
from lift3d.io.atomic import write_text_atomic
from lift3d.models.checkpoint import load_tensors, save_checkpoint, save_tensors
from lift3d.models.registry import build_model
from lift3d.tasks import task_from_config
from lift3d.tasks.base import StepContext
from lift3d.train.config import config_differences
from lift3d.train.optim import build_optimizer, build_schedule
from lift3d.train.prefetch import prefetch


def check_run_folder(out: Path) -> None:
    """Refuse, before any work, a run folder that cannot be created or written: an existing file, a path under a
    file, or a folder (or its first existing parent) that is not writable (:class:`InputError` naming it)."""
    if out.exists() and not out.is_dir():
        raise InputError(f"run folder {out} (--out / train.out) is an existing file, not a folder")
    parent = out
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot create run folder {out}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write run folder {out}: {parent} is not writable")


def bf16_fast() -> bool:
    """True when this CPU has native bf16 instructions (AVX512-BF16 / AMX), where bf16 autocast pays off."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    try:
        return bool(check()) if check is not None else False
    except RuntimeError:
        return False


def resolve_amp(value) -> bool:
    """``train.amp``: ``"auto"`` -> bf16 autocast only on CPUs with native bf16; ``True``/``False`` force it.

    Measured on 2 cores: bf16 doubles training throughput on an AVX512-BF16 EPYC, but on an AVX2-only EPYC it
    is emulated and 25x *slower* (0.6 vs 14.8 shapes/s), hence the default ``auto``.
    """
    if value == "auto":
        return bf16_fast()
    return bool(value)


class Trainer:
    """Train ``config`` (see :mod:`lift3d.train.config`) on ``train_set``, validating on ``val_set``.

    Datasets follow the dataset protocol (:class:`lift3d.data.dataset.ShapeDataset`'s interface: ``set_num_views``,
    ``set_epoch``, items with ``images`` and the targets the task needs), so tests can pass small synthetic ones.
    Everything representation-specific (targets, loss, training step, validation metric) comes from the model's
    task (:mod:`lift3d.tasks`); the trainer only runs epochs, schedules, checkpoints and logs.
    """

    def __init__(self, config: dict, train_set, val_set=None, out: str | Path | None = None,
                 quiet: bool = False) -> None:
        self.cfg = config
        self.train_set, self.val_set = train_set, val_set
        self.out = Path(out or config["train"]["out"])
        self.quiet = quiet
        if len(train_set) == 0:
            raise InputError("the training set is empty")
        check_run_folder(self.out)
        self.dist = torch.distributed.is_available() and torch.distributed.is_initialized()
        self.rank = torch.distributed.get_rank() if self.dist else 0
        self.world = torch.distributed.get_world_size() if self.dist else 1
        if config["train"].get("threads"):
            torch.set_num_threads(int(config["train"]["threads"]))
        torch.manual_seed(int(config["seed"]))
        self.model = build_model(config["model"])
        self.net = self.model
        if self.dist:
            self.net = nn.parallel.DistributedDataParallel(self.model)
        self.task = task_from_config(config)
        self.opts = {name: build_optimizer(params, config["optim"])
                     for name, params in self.task.optimizer_groups(self.model).items()}
        self.batch_size = int(config["data"]["batch_size"])
        self.steps_per_epoch = max(1, len(train_set) // (self.batch_size * self.world))
        self.total_steps = self.steps_per_epoch * int(config["train"]["epochs"])
        self.schedule = build_schedule(config["schedule"], self.total_steps, self.steps_per_epoch)
        self.epoch, self.step, self.best = 0, 0, -math.inf
        self.history: list[dict] = []
        self.writer = None  # TensorBoard, opened with the first epoch's log (a run failing before leaves no folder)

    # ----------------------------------------------------------------- state
    def state_tensors(self) -> tuple[dict[str, torch.Tensor], dict]:
        """Weights, optimiser + RNG state as tensors and a JSON header (no pickle): everything a resume needs, in
        one file, so a kill between two checkpoint writes can never pair weights and state of different epochs."""
        tensors: dict[str, torch.Tensor] = {"rng/torch": torch.get_rng_state()}
        tensors.update({f"model/{k}": v for k, v in self.model.state_dict().items()})
        groups = {}
        for name, opt in self.opts.items():
            sd = opt.state_dict()
            for pid, st in sd["state"].items():
                for k, v in st.items():
                    tensors[f"opt/{name}/{pid}/{k}"] = v if torch.is_tensor(v) else torch.tensor(v)
            groups[name] = sd["param_groups"]
        header = {"param_groups": groups, "epoch": self.epoch, "step": self.step, "best": self.best,
                  "history": self.history, "config": self.cfg, "train_size": len(self.train_set)}
        return tensors, header

    def load_state(self, run: Path) -> bool:
        """Resume from ``run/last_state.safetensors``; returns False when there is nothing to resume.

        A run whose config differs in anything that changes the result (every key but
        :data:`lift3d.train.config.RESUME_FREE`), or that was trained on a training set of another size, is
        refused with an :class:`InputError` naming the differences.
        """
        s = run / "last_state.safetensors"
        for stale in run.glob(".*.tmp*"):  # temporary files of a write a kill interrupted
            stale.unlink(missing_ok=True)
        if not s.is_file():
            return False
        tensors, header = load_tensors(s)
        self._check_same_run(run, header)
        weights = {k[len("model/"):]: v for k, v in tensors.items() if k.startswith("model/")}
        if not weights:  # runs written before the state file held the weights
            weights, _ = load_tensors(run / "last.safetensors")
        self.model.load_state_dict(weights)
        state: dict[str, dict[int, dict]] = {name: {} for name in self.opts}
        for key, v in tensors.items():
            if key.startswith("opt/"):
                _, group, pid, name = key.split("/", 3)
                state[group].setdefault(int(pid), {})[name] = v
        for name, opt in self.opts.items():
            opt.load_state_dict({"state": state[name], "param_groups": header["param_groups"][name]})
        torch.set_rng_state(tensors["rng/torch"])
        self.epoch, self.step, self.best = header["epoch"], header["step"], header["best"]
        self.history = header["history"]
        return True

    def _check_same_run(self, run: Path, header: dict) -> None:
        saved = header.get("config")
        if saved is None:  # runs written before the state file held the config
            saved = load_tensors(run / "last.safetensors")[1].get("config", {})
        diffs = config_differences(saved, self.cfg)
        if diffs:
            raise InputError(f"cannot resume {run}: its config differs in {'; '.join(diffs)} "
                             "(resume with the same settings, or train into a new --out folder)")
        size = header.get("train_size")
        if size is not None and size != len(self.train_set):
            raise InputError(f"cannot resume {run}: it was trained on {size} training shapes, the dataset now has "
                             f"{len(self.train_set)} (resume with the same data, or train into a new --out folder)")

    def save(self, val: dict | None, improved: bool = False) -> None:
        """Write the epoch's checkpoints (rank 0): ``best`` (when ``improved``), ``last``, then ``last_state``, the
        file a resume reads; each write is atomic, so a kill at any point resumes from a complete epoch."""
        if self.rank != 0:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        meta = {"epoch": self.epoch, "step": self.step}
        if val:
            meta.update(val)
        if improved:
            save_checkpoint(self.out / "best.safetensors", self.model, self.cfg, meta)
        save_checkpoint(self.out / "last.safetensors", self.model, self.cfg, meta)
        tensors, header = self.state_tensors()
        save_tensors(self.out / "last_state.safetensors", tensors, header)

    # ----------------------------------------------------------------- data
    def epoch_batches(self, epoch: int) -> list[tuple[int, list[int]]]:
        """``[(views, indices)]`` for one epoch: seeded order and view counts, this rank's share."""
        seed = int(self.cfg["seed"])
        order = np.random.default_rng([seed, epoch, 11]).permutation(len(self.train_set))
        vrng = np.random.default_rng([seed, epoch, 13])
        max_v = int(self.cfg["data"]["max_views"])
        probs = self.cfg["data"].get("view_probs")  # weights of V = 1..max_views; None = uniform
        p = None if probs is None else np.asarray(probs, np.float64) / np.sum(probs)
        global_bs = self.batch_size * self.world
        batches = []
        for b in range(self.steps_per_epoch):
            idx = order[b * global_bs:(b + 1) * global_bs]
            v = vrng.integers(1, max_v + 1) if p is None else vrng.choice(max_v, p=p) + 1
            batches.append((int(v), idx[self.rank::self.world].tolist()))
        return batches

    def load_batch(self, job: tuple[int, list[int]]) -> dict:
        """The collated batch of ``(views, indices)``; an unexpected failure reading an item is a
        :class:`DatasetError` naming the shape."""
        views, idx = job
        self.train_set.set_num_views(views)
        items = []
        for i in idx:
            try:
                items.append(self.train_set[i])
            except Lift3DError:
                raise
            except Exception as exc:  # noqa: BLE001 - a reader's library failure, reported with the shape
                describe = getattr(self.train_set, "describe", None)
                what = f"shape {describe(i)[1]}" if describe else f"item {i}"
                root = getattr(self.train_set, "root", "the training set")
                raise DatasetError(f"{root}: reading {what} failed: {type(exc).__name__}: {exc}") from exc
        return collate(items)

    # ----------------------------------------------------------------- loop
    def train_epoch(self) -> dict:
        self.net.train()
        self.train_set.set_epoch(self.epoch)
        amp = resolve_amp(self.cfg["train"].get("amp"))
        clip = self.cfg["train"].get("grad_clip")
        logs: dict[str, list[float]] = {}
        seen, t0 = 0, time.perf_counter()
        bar = tqdm(total=self.steps_per_epoch, desc=f"epoch {self.epoch + 1}/{self.cfg['train']['epochs']}",
                   disable=self.quiet or self.rank != 0, leave=False)
        for batch in prefetch(self.load_batch, self.epoch_batches(self.epoch)):
            factor = self.schedule(self.step)
            for opt in self.opts.values():
                for g in opt.param_groups:
                    g["lr"] = g.setdefault("initial_lr", g["lr"]) * factor
            numbers = self.task.training_step(StepContext(self.net, self.model, self.opts, batch, amp, clip))
            self.step += 1
            for k, v in numbers.items():
                logs.setdefault(k, []).append(v)
            seen += len(batch["images"])
            rate = seen * self.world / (time.perf_counter() - t0)
            bar.set_postfix({k: f"{np.mean(v[-20:]):.4g}" for k, v in logs.items()} | {"shapes_s": f"{rate:.1f}"})
            bar.update()
        bar.close()
        lr = next(iter(self.opts.values())).param_groups[0]["lr"]
        return {**{k: float(np.mean(v)) for k, v in logs.items()},
                "shapes_per_s": seen * self.world / (time.perf_counter() - t0), "lr": lr}

    def validate(self) -> dict:
        if self.val_set is None or len(self.val_set) == 0:
            return {}
        return self.task.validate(self.model, self.val_set, self.cfg)

    def fit(self, resume: bool = False) -> dict:
        """Train to ``train.epochs`` (or until ``train.max_minutes``); returns the last epoch's metrics.

        The run folder is created with the first epoch's log; a run that fails (or is interrupted) before its first
        checkpoint removes the folder if it created it, so a failed run leaves nothing behind. A folder that existed
        before, or that holds a checkpoint to resume from, is never removed.
        """
        created = self.rank == 0 and not self.out.exists()
        try:
            return self._fit(resume)
        except BaseException:
            self._close_writer()
            if created and not (self.out / "last_state.safetensors").is_file():
                shutil.rmtree(self.out, ignore_errors=True)
            raise
        finally:
            self._close_writer()

    def _close_writer(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _fit(self, resume: bool) -> dict:
        if resume and self.load_state(self.out) and self.rank == 0 and not self.quiet:
            print(f"resumed from {self.out} at epoch {self.epoch}")
        budget = self.cfg["train"].get("max_minutes")
        start = time.perf_counter()
        row: dict = dict(self.history[-1]) if self.history else {}  # a resumed run that had finished its epochs
        while self.epoch < int(self.cfg["train"]["epochs"]):
            row = {"epoch": self.epoch + 1, **self.train_epoch()}
            self.epoch += 1
            every = int(self.cfg["train"].get("val_every", 1))
            if self.rank == 0 and (self.epoch % every == 0 or self.epoch == int(self.cfg["train"]["epochs"])):
                row.update(self.validate())
            self.history.append(row)
            improved = row.get("val_score", -math.inf) > self.best
            self.best = max(self.best, row.get("val_score", -math.inf))
            if self.rank == 0:
                self._log(row)
            self.save(row if "val_score" in row else None, improved)
            if budget and (time.perf_counter() - start) / 60 > float(budget):
                if self.rank == 0 and not self.quiet:
                    print(f"time budget of {budget} min reached after epoch {self.epoch}")
                break
        self._close_writer()
        if self.rank == 0 and self.val_set is not None and len(self.val_set) and self.cfg["train"].get("calibrate_bn"):
            from lift3d.train.calibrate import finalize

            final = finalize(self.out / "last.safetensors", self.train_set, self.val_set, self.cfg,
                             self.out / "final.safetensors", quiet=self.quiet)
            row.update({f"final_{k}": v for k, v in final.items() if k.startswith(f"val_{self.task.score}")})
        return row

    def _log(self, row: dict) -> None:
        if self.writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self.out.mkdir(parents=True, exist_ok=True)
            self.writer = SummaryWriter(str(self.out / "tensorboard"))
        for k, v in row.items():
            if isinstance(v, int | float) and k != "epoch":
                self.writer.add_scalar(k, v, row["epoch"])
        text = io.StringIO(newline="")
        w = csv.DictWriter(text, fieldnames=sorted({k for r in self.history for k in r}))
        w.writeheader()
        w.writerows(self.history)
        write_text_atomic(self.out / "metrics.csv", text.getvalue())
        if not self.quiet:
            show = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
            tqdm.write(" ".join(f"{k}={v}" for k, v in show.items()))
