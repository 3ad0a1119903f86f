"""Baselines of the quality report (lift3d.train.baselines) on known grids and the tiny dataset."""

import numpy as np
import pytest

from lift3d.data.dataset import ShapeDataset
from lift3d.metrics import voxel_iou
from lift3d.models.checkpoint import load_model
from lift3d.tasks.base import per_category
from lift3d.train.baselines import gt_voxels, mean_shapes, retrieval_baselines, soft_iou_matrix
from lift3d.train.evaluate import evaluate


def test_soft_iou_matrix_is_the_iou_of_binary_rows():
    a = np.array([[1, 1, 0, 0], [0, 0, 0, 0]], np.float32)
    b = np.array([[1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]], np.float32)
    m = soft_iou_matrix(a, b)
    assert m.shape == (2, 3)
    np.testing.assert_allclose(m[0], [1 / 3, 1.0, 0.0])
    np.testing.assert_allclose(m[1], [0.0, 0.0, 1.0])  # two empty grids agree
    soft = soft_iou_matrix(np.array([[0.5, 0.5, 0.0, 0.0]], np.float32), b[1:2])
    assert soft[0, 0] == pytest.approx(1 / 2)  # sum(ab) = 1, sum(a + b - ab) = 1 + 2 - 1


def test_per_category_means():
    assert per_category([0.2, 0.5, 0.4], ["a", "b", "a"]) == pytest.approx({"a": 0.3, "b": 0.5})


def test_mean_shape_of_one_shape_per_category_is_that_shape(tiny_dataset):
    train = ShapeDataset(tiny_dataset, "train", targets=("voxels32",))
    means = mean_shapes(train)
    for i, s in enumerate(train.shapes):  # the tiny dataset has one training shape per category
        np.testing.assert_array_equal(means[s["category"]], gt_voxels(train, i).astype(float))


def test_evaluate_keeps_the_probabilities_it_scored(tiny_dataset, tiny_checkpoint):
    model, cfg, _ = load_model(tiny_checkpoint)
    test = ShapeDataset(tiny_dataset, "test", targets=("voxels32", "points"), image_size=cfg["data"]["image_size"])
    res = evaluate(model, test, views=1, threshold=0.5, keep_probs=True)
    assert res["probs"].shape == (len(test), 32, 32, 32)
    gts = np.stack([gt_voxels(test, i) for i in range(len(test))])
    assert float(np.mean(voxel_iou(res["probs"], gts, 0.5))) == pytest.approx(res["iou"])
    assert "probs" not in evaluate(model, test, views=1)


def test_retrieval_baselines_against_brute_force(tiny_dataset):
    train, test = (ShapeDataset(tiny_dataset, s, targets=("voxels32",)) for s in ("train", "test"))
    full = np.ones((len(test), 32, 32, 32), np.float32)  # a prediction of the full grid
    retrieved, oracle = retrieval_baselines(full, train, test)
    bank = [gt_voxels(train, i) for i in range(len(train))]
    biggest = bank[int(np.argmax([b.sum() for b in bank]))]  # nearest (soft IoU) to the full grid
    for i, s in enumerate(test.shapes):  # one test shape per category
        gt = gt_voxels(test, i)
        assert retrieved[s["category"]] == pytest.approx(voxel_iou(biggest, gt))
        assert oracle[s["category"]] == pytest.approx(max(voxel_iou(b, gt) for b in bank))
        assert 0.0 < oracle[s["category"]] < 1.0
    _, self_oracle = retrieval_baselines(full, test, test)
    assert self_oracle == pytest.approx(dict.fromkeys(self_oracle, 1.0))
