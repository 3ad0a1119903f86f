"""Fuzz checkpoint loading (``load_model``: safetensors header, JSON config, weights, model rebuild)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given

from lift3d.models.checkpoint import load_model

from ._fuzz import fuzz_settings, inputs, isolated, must_succeed_or_refuse, mutated


@pytest.fixture(scope="module")
def seed(tmp_path_factory) -> bytes:
    import torch

    from lift3d.models.checkpoint import save_checkpoint
    from lift3d.models.registry import build_model
    from lift3d.train.config import load_config

    cfg = load_config("configs/tiny.yaml")
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("fuzz_ckpt") / "seed.safetensors"
    save_checkpoint(path, build_model(cfg["model"]), cfg, {"threshold": 0.5})
    return path.read_bytes()


def test_load_model_returns_a_model_or_refuses(seed: bytes, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("fuzz_ckpt_in") / "fuzz.safetensors"
    header = 8 + struct.unpack("<Q", seed[:8])[0]  # the JSON header: where the config and tensor offsets live

    @fuzz_settings(60)
    @given(inputs(seed[:header], max_random=256) | mutated(seed, span=header))
    def run(data: bytes) -> None:
        path.write_bytes(data)
        got = must_succeed_or_refuse(lambda: load_model(path))
        if got is not None:
            model, config, meta = got
            assert isinstance(config, dict) and isinstance(meta, dict) and not model.training

    isolated(run, path)
