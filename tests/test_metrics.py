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


def test_chamfer_two_point_sets_by_hand():
    a = np.array([[0.0, 0, 0], [1, 0, 0]])
    b = np.array([[0.0, 0.2, 0], [3, 0, 0]])
    # a->b: 0.2, sqrt(1.04);  b->a: 0.2, 2.0
    cd = chamfer_distance(a, b)
    assert cd["accuracy"] == pytest.approx((0.2 + np.sqrt(1.04)) / 2)
    assert cd["completeness"] == pytest.approx(1.1)
    assert cd["l1"] == pytest.approx(0.5 * ((0.2 + np.sqrt(1.04)) / 2 + 1.1))
    assert cd["l2"] == pytest.approx(0.5 * ((0.04 + 1.04) / 2 + (0.04 + 4.0) / 2))  # = 1.28
    loss = chamfer_loss(torch.tensor(a)[None], torch.tensor(b)[None], chunk=1)
    assert loss.item() == pytest.approx(1.28)


def test_fscore_by_hand():
    pred = np.array([[0.0, 0, 0], [1, 0, 0], [2, 0, 0], [9, 9, 9]])
    gt = np.array([[0.0, 0, 0.005], [1, 0, 0], [2.005, 0, 0], [5, 5, 5], [6, 6, 6], [7, 7, 7]])
    # precision 3/4 (the far pred point misses), recall 3/6: F = 2 * 0.75 * 0.5 / 1.25 = 0.6
    assert fscore(pred, gt, tau=0.01) == pytest.approx(0.6)
    assert fscore(pred, gt, tau=0.001) == pytest.approx(2 * 0.25 * (1 / 6) / (0.25 + 1 / 6))  # only (1,0,0)
    assert fscore(pred, gt + 100, tau=0.01) == 0.0


def test_voxel_iou_threshold_and_batch_numpy():
    pred = np.zeros((2, 2, 2, 2))
    pred[0, 0] = 0.7  # 4 cells at 0.7
    pred[0, 1, 0] = 0.4  # 2 cells at 0.4
    gt = np.zeros((2, 2, 2, 2))
    gt[:, 0] = 1  # 4 cells in each item
    iou = voxel_iou(pred, gt)  # item 0: 4/4; item 1: empty prediction -> 0/4
    assert iou.shape == (2,) and np.allclose(iou, [1.0, 0.0])
    assert voxel_iou(pred, gt, threshold=0.3)[0] == pytest.approx(4 / 6)
    t = voxel_iou(torch.tensor(pred, dtype=torch.float32), gt, threshold=0.3)  # torch pred, numpy gt
    assert torch.allclose(t, torch.tensor([4 / 6, 0.0], dtype=torch.float64))


def test_emd_squared_exact_and_sinkhorn(rng):
    a = rng.random((64, 3))
    b = a[rng.permutation(64)] + np.array([0.05, 0.0, 0.0])
    assert emd_exact(a, b, p=2) == pytest.approx(0.0025, abs=1e-12)
    assert emd_sinkhorn(a, b, p=2) == pytest.approx(0.0025, rel=0.05)
    with pytest.raises(InputError):
        emd_exact(a, b, p=3)


def test_emd_sinkhorn_subsamples_large_sets_without_keops(rng):
    from lift3d.metrics import emd
    from lift3d.metrics.emd import _has_keops

    a, b = rng.random((600, 3)), rng.random((600, 3))
    est = emd_sinkhorn(a, b, max_points=200, seed=3)
    if not _has_keops():
        r = np.random.default_rng(3)
        ia, ib = r.choice(600, 200, replace=False), r.choice(600, 200, replace=False)
        assert est == pytest.approx(emd_sinkhorn(a[ia], b[ib]), rel=1e-6)
    assert 0.5 * emd_exact(a, b) < est < 2 * emd_exact(a, b)
    assert emd(a, b) == emd_exact(a, b)  # small sets: exact


def test_chamfer_loss_chunked_matches_kdtree():
    """8k x 8k in chunks of 512 (a 16 MB distance block at a time instead of 256 MB) equals the KD-tree value."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(1, 8000, 3, generator=g), torch.rand(1, 8000, 3, generator=g)
    with torch.no_grad():
        loss = chamfer_loss(a, b, chunk=512)
    ref = chamfer_distance(a[0].numpy(), b[0].numpy())["l2"]
    assert loss.item() == pytest.approx(ref, rel=1e-3)
