"""The model contract, one :class:`~lift3d.tasks.base.Task` per representation, registered by name.

``task_for_model(model)`` and ``task_from_config(config)`` are how the trainer, evaluation, calibration and the
reconstruction pipeline reach a representation's loss, metrics and outputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lift3d.errors import ModelError
from lift3d.registry import Registry

if TYPE_CHECKING:
    from torch import nn

    from lift3d.tasks.base import Task

TASKS: Registry = Registry("task", ModelError, modules=("lift3d.tasks.voxel", "lift3d.tasks.occupancy",
                                                        "lift3d.tasks.points"))


def task_for_model(model: nn.Module, loss: dict | None = None) -> Task:
    """The task of a built model (its class attribute ``task``), with the loss section ``loss``."""
    model = getattr(model, "module", model)  # DistributedDataParallel
    name = getattr(model, "task", None)
    if name is None:
        raise ModelError(f"{type(model).__name__} declares no task (class attribute `task`)")
    return TASKS.build(name, loss=loss)


def task_from_config(config: dict) -> Task:
    """The task of ``config["model"]``'s model, with ``config["loss"]``."""
    from lift3d.models.registry import model_task

    return TASKS.build(model_task(config["model"]), loss=config.get("loss"))
