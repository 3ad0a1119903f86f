"""Fuzz the point-cloud reader (``load_points``): XYZ text, PCD, PLY point clouds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from lift3d.io.points import load_points, save_points

from ._fuzz import fuzz_settings, inputs, isolated, must_succeed_or_refuse


def _seed(ext: str, tmp) -> bytes:
    pts = np.random.default_rng(0).normal(size=(12, 3))
    path = tmp / f"seed{ext}"
    save_points(path, pts, pts / np.linalg.norm(pts, axis=1, keepdims=True))
    return path.read_bytes()


@pytest.mark.parametrize("ext", [".xyz", ".ply", ".pcd"])
def test_load_points_returns_points_or_refuses(ext: str, tmp_path_factory) -> None:
    tmp = tmp_path_factory.mktemp("fuzz_points")
    path = tmp / f"fuzz{ext}"
    seed = _seed(ext, tmp)

    @fuzz_settings(50)
    @given(inputs(seed))
    def run(data: bytes) -> None:
        path.write_bytes(data)
        got = must_succeed_or_refuse(lambda: load_points(path))
        if got is not None:
            pts, normals, colors = got
            assert pts.ndim == 2 and pts.shape[1] == 3 and len(pts) > 0 and np.isfinite(pts).all()
            for extra in (normals, colors):
                assert extra is None or extra.shape == pts.shape

    isolated(run, path)
