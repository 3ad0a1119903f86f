"""Evaluation on held-out shapes, through the model's task (:mod:`lift3d.tasks`): voxel models report IoU per
category and threshold, point and occupancy models their own metrics; every task can add mesh F-score/Chamfer."""

from __future__ import annotations

from torch import nn

from lift3d.tasks import task_for_model


def evaluate(model: nn.Module, dataset, views: int = 1, **kwargs) -> dict:
    """Metrics of ``model`` on ``dataset`` with ``views`` views per shape (see
    :meth:`lift3d.tasks.base.Task.evaluate` for the keyword arguments and the result's keys)."""
    return task_for_model(model).evaluate(model, dataset, views=views, **kwargs)
