import time

import numpy as np
import pytest
import torch

from lift3d.errors import InputError
from lift3d.metrics import (
    chamfer_distance,
    chamfer_loss,
    emd_exact,
    emd_sinkhorn,
    fscore,
    normal_consistency,
    voxel_iou,
)


def test_voxel_iou_known_grids():
    a = np.zeros((4, 4, 4))
    b = np.zeros((4, 4, 4))
    a[:2] = 1  # 32 cells
    b[1:3] = 1  # 32 cells, 16 shared
    assert voxel_iou(a, b) == pytest.approx(16 / 48)
    assert voxel_iou(a, a) == 1.0
    assert voxel_iou(np.zeros((4, 4, 4)), np.zeros((4, 4, 4))) == 1.0
    batch = voxel_iou(torch.tensor(np.stack([a, b])), torch.tensor(np.stack([b, b])))
    assert torch.allclose(batch, torch.tensor([16 / 48, 1.0], dtype=torch.float64))
    assert voxel_iou(a * 0.4, a, threshold=0.3) == 1.0 and voxel_iou(a * 0.4, a, threshold=0.5) == 0.0


def test_chamfer_hand_computed():
    a = np.array([[0.0, 0, 0], [1, 0, 0]])
    b = np.array([[0.0, 0, 0.1], [1, 0, 0], [1, 0, 0.3]])
    # a->b: 0.1, 0   (mean 0.05);  b->a: 0.1, 0, 0.3  (mean 0.4/3)
    cd = chamfer_distance(a, b)
    assert cd["l1"] == pytest.approx(0.5 * (0.05 + 0.4 / 3))
    assert cd["l2"] == pytest.approx(0.5 * (0.01 / 2 + (0.01 + 0.09) / 3))
    assert chamfer_distance(a, a)["l1"] == 0.0


def test_chamfer_loss_matches_metric_and_has_gradients(rng):
    a = torch.tensor(rng.random((2, 50, 3)), requires_grad=True)
    b = torch.tensor(rng.random((2, 70, 3)))
    loss = chamfer_loss(a, b, chunk=16)
    ref = np.mean([chamfer_distance(a[i].detach().numpy(), b[i].numpy())["l2"] for i in range(2)])
    assert loss.item() == pytest.approx(ref, rel=1e-9)
    loss.backward()
    assert a.grad is not None and torch.isfinite(a.grad).all()


def test_fscore_monotone_in_tau(rng):
    a = rng.random((500, 3))
    b = a + rng.normal(0, 0.01, a.shape)
    scores = [fscore(a, b, t) for t in (0.001, 0.005, 0.01, 0.02, 0.05)]
    assert scores == sorted(scores) and scores[-1] == 1.0 and scores[0] < 0.5
    assert fscore(a, a, 0.0) == 1.0


def test_normal_consistency():
    pts = np.array([[0.0, 0, 0], [1, 0, 0]])
    n = np.array([[0.0, 0, 1], [0, 1, 0]])
    assert normal_consistency(pts, n, pts, n) == pytest.approx(1.0)
    assert normal_consistency(pts, n, pts, -n) == pytest.approx(1.0)  # orientation-free
    assert normal_consistency(pts, n, pts, n[::-1] * 0 + [1, 0, 0]) == pytest.approx(0.0)


def test_emd_exact_is_the_assignment_cost(rng):
    a = rng.random((64, 3))
    perm = rng.permutation(64)
    b = a[perm] + np.array([0.0, 0.0, 0.05])  # every point moved by 0.05: optimal matching costs 0.05
    assert emd_exact(a, b) == pytest.approx(0.05, abs=1e-9)
    x, y = rng.random((200, 3)), rng.random((200, 3))
    assert emd_exact(x, y) <= chamfer_distance(x, y)["l1"] * 10
    assert emd_sinkhorn(x, y) == pytest.approx(emd_exact(x, y), rel=0.1)


def test_emd_rejects_unequal_sizes():
    with pytest.raises(InputError):
        emd_exact(np.zeros((3, 3)), np.zeros((4, 3)))


def test_chamfer_100k_is_fast(rng):
    a, b = rng.random((100_000, 3)), rng.random((100_000, 3))
    t = time.perf_counter()
    cd = chamfer_distance(a, b)
    assert time.perf_counter() - t < 10.0
    assert 0 < cd["l1"] < 0.02
