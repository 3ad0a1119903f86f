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


TINY_CATEGORIES = ["chair", "table", "bottle", "car"]


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """A small real dataset: 4 families x 3 shapes x 3 views at 32 px (one shape per split per family)."""
    from lift3d.data.generate import generate_dataset

    root = tmp_path_factory.mktemp("tiny_ds")
    generate_dataset(root, TINY_CATEGORIES, shapes_per_category=3, views=3, image_size=32, seed=0, workers=1,
                     points=2048, occ_samples=1024, quiet=True)
    return root


@pytest.fixture(scope="session")
def tiny_config() -> dict:
    from lift3d.train.config import load_config

    return load_config("configs/tiny.yaml")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_config):
    """An untrained tiny model biased to fill the whole grid (its mesh is the cube): exercises every output path."""
    from lift3d.models.checkpoint import save_checkpoint
    from lift3d.models.registry import build_model

    torch.manual_seed(0)
    model = build_model(tiny_config["model"])
    with torch.no_grad():
        head = model.head.body[-1]
        head.weight.mul_(0.01)
        head.bias.fill_(4.0)
    model.eval()
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    save_checkpoint(path, model, tiny_config, {"threshold": 0.5})
    return path


def welded(mesh):
    """Geometry of ``mesh`` with vertices merged by position only: a textured mesh splits vertices along UV seams,
    which are not holes. Use before topology checks (``is_watertight``) on files written with a texture."""
    import trimesh

    out = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    out.merge_vertices()
    return out


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """Run ``lift3d ARGS...`` in-process -> ``(exit code, stdout, stderr)``; arguments may be paths."""
    from lift3d.cli import main

    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exc.value.code or 0, out.out, out.err
