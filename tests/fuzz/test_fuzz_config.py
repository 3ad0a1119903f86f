"""Fuzz the training-config reader (``load_config``: YAML parsing, merge over the defaults, validation)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given

from lift3d.train.config import load_config

from ._fuzz import fuzz_settings, inputs, isolated, must_succeed_or_refuse

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [(ROOT / "configs" / name).read_bytes() for name in ("tiny.yaml", "tiny_points.yaml", "tiny_occupancy.yaml")]


def test_load_config_returns_a_config_or_refuses(tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("fuzz_config") / "fuzz.yaml"

    @fuzz_settings(120)
    @given(inputs(*SEEDS))
    def run(data: bytes) -> None:
        path.write_bytes(data)
        cfg = must_succeed_or_refuse(lambda: load_config(path))
        if cfg is not None:
            assert {"model", "data", "train", "optim"} <= set(cfg)

    isolated(run, path)
