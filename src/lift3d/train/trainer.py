"""The training loop: seeded, resumable, time-budgeted, single process or DistributedDataParallel.

Determinism and exact resume: the batch order, the number of views of each batch and every augmentation
draw are functions of ``(seed, epoch, index)``, so a run resumed from an epoch checkpoint replays exactly
what an uninterrupted run would have done. Checkpoints (written atomically, rank 0 only):

* ``last.safetensors`` / ``last_state.safetensors``: weights, and optimiser + scheduler + RNG state;
* ``best.safetensors``: the weights with the best validation IoU (config + metrics in the header);
* ``final.safetensors``: the last weights with re-estimated batch-norm statistics and the validation-chosen
  threshold (:mod:`lift3d.train.calibrate`) — the checkpoint to ship;
* ``metrics.csv`` and TensorBoard event files.
"""

from __future__ import annotations

import csv
import math
import queue
import threading
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from lift3d.data.dataset import collate
from lift3d.errors import InputError
from lift3d.losses import VoxelLoss
from lift3d.models.checkpoint import load_tensors, save_checkpoint, save_tensors
from lift3d.models.registry import build_model
from lift3d.train.evaluate import batch_iou, evaluate


def build_optimizer(params, cfg: dict) -> torch.optim.Optimizer:
    """Adam, AdamW or SGD with momentum (``optim`` section)."""
    name, lr, wd = cfg["name"], float(cfg["lr"]), float(cfg.get("weight_decay", 0.0))
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=float(cfg.get("momentum", 0.9)), weight_decay=wd, nesterov=True)
    cls = torch.optim.AdamW if name == "adamw" else torch.optim.Adam
    return cls(params, lr=lr, weight_decay=wd)


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


def lr_factor(step: int, total: int, steps_per_epoch: int, cfg: dict) -> float:
    """Multiplier of the base LR at ``step`` (linear warm-up, then cosine / step / one-cycle / constant)."""
    warm = int(cfg.get("warmup_steps", 0))
    if cfg["name"] == "onecycle":
        peak = max(1, int(0.3 * total))
        if step < peak:
            return 0.04 + 0.96 * step / peak
        return max(cfg.get("min_lr_ratio", 0.0), 0.5 * (1 + math.cos(math.pi * (step - peak) / max(1, total - peak))))
    if step < warm:
        return (step + 1) / warm
    if cfg["name"] == "cosine":
        lo = float(cfg.get("min_lr_ratio", 0.0))
        return lo + (1 - lo) * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))
    if cfg["name"] == "step":
        return float(cfg.get("gamma", 0.5)) ** (step // (steps_per_epoch * int(cfg.get("step_epochs", 10))))
    return 1.0


class Trainer:
    """Train ``config`` (see :mod:`lift3d.train.config`) on ``train_set``, validating on ``val_set``.

    Datasets follow :class:`lift3d.data.dataset.ShapeDataset`'s interface (``set_num_views``,
    ``set_epoch``, items with ``images`` and ``voxels32``), so tests can pass small synthetic ones.
    """

    def __init__(self, config: dict, train_set, val_set=None, out: str | Path | None = None,
                 quiet: bool = False) -> None:
        self.cfg = config
        self.train_set, self.val_set = train_set, val_set
        self.out = Path(out or config["train"]["out"])
        self.quiet = quiet
        if len(train_set) == 0:
            raise InputError("the training set is empty")
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
        self.opt = build_optimizer(self.model.parameters(), config["optim"])
        self.loss_fn = VoxelLoss(**config["loss"])
        self.batch_size = int(config["data"]["batch_size"])
        self.steps_per_epoch = max(1, len(train_set) // (self.batch_size * self.world))
        self.total_steps = self.steps_per_epoch * int(config["train"]["epochs"])
        self.epoch, self.step, self.best = 0, 0, -1.0
        self.history: list[dict] = []

    # ----------------------------------------------------------------- state
    def state_tensors(self) -> tuple[dict[str, torch.Tensor], dict]:
        """Optimiser + RNG state as tensors and a JSON header (no pickle)."""
        tensors: dict[str, torch.Tensor] = {"rng/torch": torch.get_rng_state()}
        sd = self.opt.state_dict()
        for pid, st in sd["state"].items():
            for k, v in st.items():
                tensors[f"opt/{pid}/{k}"] = v if torch.is_tensor(v) else torch.tensor(v)
        header = {"param_groups": sd["param_groups"], "epoch": self.epoch, "step": self.step, "best": self.best,
                  "history": self.history}
        return tensors, header

    def load_state(self, run: Path) -> bool:
        """Resume from ``run/last*.safetensors``; returns False when there is nothing to resume."""
        w, s = run / "last.safetensors", run / "last_state.safetensors"
        if not (w.is_file() and s.is_file()):
            return False
        weights, _ = load_tensors(w)
        self.model.load_state_dict(weights)
        tensors, header = load_tensors(s)
        state: dict[int, dict] = {}
        for key, v in tensors.items():
            if key.startswith("opt/"):
                _, pid, name = key.split("/", 2)
                state.setdefault(int(pid), {})[name] = v
        self.opt.load_state_dict({"state": state, "param_groups": header["param_groups"]})
        torch.set_rng_state(tensors["rng/torch"])
        self.epoch, self.step, self.best = header["epoch"], header["step"], header["best"]
        self.history = header["history"]
        return True

    def save(self, val: dict | None) -> None:
        if self.rank != 0:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        meta = {"epoch": self.epoch, "step": self.step}
        if val:
            meta.update(val)
        save_checkpoint(self.out / "last.safetensors", self.model, self.cfg, meta)
        tensors, header = self.state_tensors()
        save_tensors(self.out / "last_state.safetensors", tensors, header)
        if val and val["val_iou"] > self.best:
            save_checkpoint(self.out / "best.safetensors", self.model, self.cfg, meta)

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

    def _prefetch(self, batches):
        """Build batches in a background thread (image decoding overlaps the network's work)."""
        q: queue.Queue = queue.Queue(maxsize=2)

        def work():
            for v, idx in batches:
                self.train_set.set_num_views(v)
                q.put(collate([self.train_set[i] for i in idx]))
            q.put(None)

        threading.Thread(target=work, daemon=True).start()
        while (item := q.get()) is not None:
            yield item

    # ----------------------------------------------------------------- loop
    def train_epoch(self) -> dict:
        self.net.train()
        self.train_set.set_epoch(self.epoch)
        amp = resolve_amp(self.cfg["train"].get("amp"))
        clip = self.cfg["train"].get("grad_clip")
        base_lr = float(self.cfg["optim"]["lr"])
        losses, ious, seen, t0 = [], [], 0, time.perf_counter()
        bar = tqdm(total=self.steps_per_epoch, desc=f"epoch {self.epoch + 1}/{self.cfg['train']['epochs']}",
                   disable=self.quiet or self.rank != 0, leave=False)
        for batch in self._prefetch(self.epoch_batches(self.epoch)):
            for g in self.opt.param_groups:
                g["lr"] = base_lr * lr_factor(self.step, self.total_steps, self.steps_per_epoch, self.cfg["schedule"])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
                out = self.net(batch["images"])
            loss = self.loss_fn(out, batch["voxels32"])
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip:
                nn.utils.clip_grad_norm_(self.model.parameters(), float(clip))
            self.opt.step()
            self.step += 1
            with torch.no_grad():
                ious.append(batch_iou(torch.sigmoid(out["logits"].float()), batch["voxels32"], 0.5).mean().item())
            losses.append(loss.item())
            seen += len(batch["images"])
            rate = seen * self.world / (time.perf_counter() - t0)
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}", iou=f"{np.mean(ious[-20:]):.3f}",
                            shapes_s=f"{rate:.1f}")
            bar.update()
        bar.close()
        return {"loss": float(np.mean(losses)), "train_iou": float(np.mean(ious)),
                "shapes_per_s": seen * self.world / (time.perf_counter() - t0), "lr": self.opt.param_groups[0]["lr"]}

    def validate(self) -> dict:
        if self.val_set is None or len(self.val_set) == 0:
            return {}
        d = self.cfg["data"]
        res: dict = {}
        scores = []
        for v in d["val_views"]:
            r = evaluate(self.model, self.val_set, views=int(v), thresholds=self.cfg["train"]["thresholds"],
                         limit=d.get("val_limit"))
            res[f"val_iou_{v}v"] = r["iou_at"][r["best_threshold"]]
            res[f"val_threshold_{v}v"] = r["best_threshold"]
            scores.append(res[f"val_iou_{v}v"])
        res["val_iou"] = float(np.mean(scores))
        res["threshold"] = res[f"val_threshold_{d['val_views'][0]}v"]
        return res

    def fit(self, resume: bool = False) -> dict:
        """Train to ``train.epochs`` (or until ``train.max_minutes``); returns the last epoch's metrics."""
        if resume and self.load_state(self.out) and self.rank == 0 and not self.quiet:
            print(f"resumed from {self.out} at epoch {self.epoch}")
        writer = None
        if self.rank == 0:
            from torch.utils.tensorboard import SummaryWriter

            self.out.mkdir(parents=True, exist_ok=True)
            writer = SummaryWriter(str(self.out / "tensorboard"))
        budget = self.cfg["train"].get("max_minutes")
        start = time.perf_counter()
        row: dict = {}
        while self.epoch < int(self.cfg["train"]["epochs"]):
            row = {"epoch": self.epoch + 1, **self.train_epoch()}
            self.epoch += 1
            every = int(self.cfg["train"].get("val_every", 1))
            if self.rank == 0 and (self.epoch % every == 0 or self.epoch == int(self.cfg["train"]["epochs"])):
                row.update(self.validate())
            self.history.append(row)
            self.save(row if "val_iou" in row else None)
            self.best = max(self.best, row.get("val_iou", -1.0))
            if self.rank == 0:
                self._log(row, writer)
            if budget and (time.perf_counter() - start) / 60 > float(budget):
                if self.rank == 0 and not self.quiet:
                    print(f"time budget of {budget} min reached after epoch {self.epoch}")
                break
        if writer is not None:
            writer.close()
        if self.rank == 0 and self.val_set is not None and len(self.val_set) and self.cfg["train"].get("calibrate_bn"):
            from lift3d.train.calibrate import finalize

            final = finalize(self.out / "last.safetensors", self.train_set, self.val_set, self.cfg,
                             self.out / "final.safetensors", quiet=self.quiet)
            row.update({f"final_{k}": v for k, v in final.items() if k.startswith("val_iou")})
        return row

    def _log(self, row: dict, writer) -> None:
        for k, v in row.items():
            if isinstance(v, int | float) and k != "epoch":
                writer.add_scalar(k, v, row["epoch"])
        path = self.out / "metrics.csv"
        keys = sorted({k for r in self.history for k in r})
        with path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(self.history)
        if not self.quiet:
            show = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
            tqdm.write(" ".join(f"{k}={v}" for k, v in show.items()))
