"""Build models by name from a config dict, so a checkpoint's JSON config rebuilds its model.

Models register themselves (``@MODELS.register("voxel")``) in the modules listed here, which are imported on the
first lookup. Every model takes ``image_size`` and declares the representation it predicts as ``task`` (a name in
:data:`lift3d.tasks.TASKS`): the task, not the trainer, knows its loss, metrics and outputs.
"""

from __future__ import annotations

from torch import nn

from lift3d.errors import ModelError
from lift3d.registry import Registry

MODELS: Registry = Registry("model", ModelError, modules=("lift3d.models.reconstructor", "lift3d.models.occupancy",
                                                          "lift3d.models.points"))


def build_model(config: dict) -> nn.Module:
    """``{"name": "voxel", ...kwargs}`` -> model. Raises :class:`ModelError` for unknown names or arguments."""
    return MODELS.build_config(config)


def model_task(config: dict) -> str:
    """Name of the task (representation) the model of ``config`` (``{"name": ...}``) predicts."""
    return str(MODELS.get(dict(config).get("name")).task)
