"""Fuzz the voxel readers (``load_voxels``): binvox and npz (an npz holding a pickle must be refused, not run)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from lift3d.io.voxels import VoxelGrid, load_voxels, save_voxels

from ._fuzz import fuzz_settings, inputs, isolated, must_succeed_or_refuse


@pytest.mark.parametrize("ext", [".binvox", ".npz"])
def test_load_voxels_returns_a_grid_or_refuses(ext: str, tmp_path_factory) -> None:
    tmp = tmp_path_factory.mktemp("fuzz_voxels")
    grid = np.zeros((6, 6, 6), bool)
    grid[1:4, 2:5, 1:5] = True
    save_voxels(tmp / f"seed{ext}", VoxelGrid(grid, np.array([-0.5, -0.25, 0.0]), 1.5))
    seed, path = (tmp / f"seed{ext}").read_bytes(), tmp / f"fuzz{ext}"

    @fuzz_settings(80)
    @given(inputs(seed))
    def run(data: bytes) -> None:
        path.write_bytes(data)
        got = must_succeed_or_refuse(lambda: load_voxels(path))
        if got is not None:
            assert got.occupancy.ndim == 3 and got.occupancy.dtype == bool and got.translate.shape == (3,)

    isolated(run, path)
