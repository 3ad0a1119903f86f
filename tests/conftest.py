"""Shared small fixtures."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh

torch.set_num_threads(1)


@pytest.fixture
def sphere() -> trimesh.Trimesh:
    """Icosphere of radius 0.4 centred at the origin (inside the canonical cube)."""
    return trimesh.creation.icosphere(subdivisions=4, radius=0.4)


@pytest.fixture
def box_mesh() -> trimesh.Trimesh:
    return trimesh.creation.box(extents=(0.6, 0.4, 0.8))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
