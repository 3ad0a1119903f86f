"""Optimisers and learning-rate schedules, built by name from the ``optim`` and ``schedule`` config sections.

Each entry's keyword arguments are exactly the keys its config section may hold (``Registry.check`` refuses any
other key), so ``optim: {name: adam, momentum: 0.9}`` is an error instead of a silently ignored setting.

A schedule is a function ``step -> multiplier of the base learning rate``: linear warm-up, then cosine / step /
one-cycle / constant. (``torch.optim.lr_scheduler`` has the same shapes, but its schedulers keep state that would
have to be pickled for an exact resume; a pure function of the step resumes exactly from the step count alone.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch

from lift3d.errors import InputError
from lift3d.registry import Registry

OPTIMIZERS: Registry = Registry("optimizer", InputError)
SCHEDULES: Registry = Registry("schedule", InputError)
Schedule = Callable[[int], float]


@OPTIMIZERS.register("adam")
def adam(params: Iterable, lr: float = 1e-3, weight_decay: float = 0.0,
         betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.Optimizer:
    """Adam (Kingma & Ba 2015)."""
    return torch.optim.Adam(params, lr=float(lr), weight_decay=float(weight_decay), betas=tuple(betas))


@OPTIMIZERS.register("adamw")
def adamw(params: Iterable, lr: float = 1e-3, weight_decay: float = 0.0,
          betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.Optimizer:
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019)."""
    return torch.optim.AdamW(params, lr=float(lr), weight_decay=float(weight_decay), betas=tuple(betas))


@OPTIMIZERS.register("sgd")
def sgd(params: Iterable, lr: float = 1e-3, momentum: float = 0.9, weight_decay: float = 0.0,
        nesterov: bool = True) -> torch.optim.Optimizer:
    """SGD with (Nesterov) momentum."""
    return torch.optim.SGD(params, lr=float(lr), momentum=float(momentum), weight_decay=float(weight_decay),
                           nesterov=bool(nesterov))


def _warm(step: int, warmup_steps: int) -> float | None:
    """Linear warm-up multiplier while ``step < warmup_steps``, else None."""
    return (step + 1) / warmup_steps if step < warmup_steps else None


@SCHEDULES.register("cosine")
def cosine(total: int, steps_per_epoch: int, warmup_steps: int = 100, min_lr_ratio: float = 0.02) -> Schedule:
    """Warm-up, then cosine decay from 1 to ``min_lr_ratio`` at step ``total``."""
    def f(step: int) -> float:
        w = _warm(step, int(warmup_steps))
        if w is not None:
            return w
        lo = float(min_lr_ratio)
        return lo + (1 - lo) * 0.5 * (1 + math.cos(math.pi * (step - warmup_steps) / max(1, total - warmup_steps)))
    return f


@SCHEDULES.register("step")
def step_decay(total: int, steps_per_epoch: int, warmup_steps: int = 100, step_epochs: int = 10,
               gamma: float = 0.5) -> Schedule:
    """Warm-up, then multiply by ``gamma`` every ``step_epochs`` epochs."""
    def f(step: int) -> float:
        w = _warm(step, int(warmup_steps))
        return w if w is not None else float(gamma) ** (step // (steps_per_epoch * int(step_epochs)))
    return f


@SCHEDULES.register("onecycle")
def onecycle(total: int, steps_per_epoch: int, min_lr_ratio: float = 0.02, peak_fraction: float = 0.3) -> Schedule:
    """One-cycle (Smith 2018): linear ramp from 0.04 to 1 over ``peak_fraction`` of the run, then cosine down."""
    peak = max(1, int(float(peak_fraction) * total))

    def f(step: int) -> float:
        if step < peak:
            return 0.04 + 0.96 * step / peak
        return max(float(min_lr_ratio), 0.5 * (1 + math.cos(math.pi * (step - peak) / max(1, total - peak))))
    return f


@SCHEDULES.register("constant")
def constant(total: int, steps_per_epoch: int, warmup_steps: int = 100) -> Schedule:
    """Warm-up, then the base learning rate."""
    def f(step: int) -> float:
        w = _warm(step, int(warmup_steps))
        return 1.0 if w is None else w
    return f


def build_optimizer(params: Iterable, cfg: dict) -> torch.optim.Optimizer:
    """The ``optim`` section (``{"name": "adam", "lr": ...}``) -> optimiser over ``params``."""
    return OPTIMIZERS.build_config(cfg, default="adam", params=params)


def build_schedule(cfg: dict, total: int, steps_per_epoch: int) -> Schedule:
    """The ``schedule`` section -> ``step -> LR multiplier`` for a run of ``total`` steps."""
    return SCHEDULES.build_config(cfg, default="cosine", total=total, steps_per_epoch=steps_per_epoch)
