"""Training-time degradations (lift3d.data.degrade) and their hook in DatasetBase.prepared_views / data.degrade."""

from dataclasses import replace

import numpy as np
import pytest

from lift3d.data import degrade as D
from lift3d.data.dataset import ShapeDataset
from lift3d.data.degrade import DegradeConfig
from lift3d.data.preprocess import prepare_image
from lift3d.errors import InputError, Lift3DError
from lift3d.train.config import load_config
from lift3d.train.run import datasets_from_config

OFF = DegradeConfig().with_probability(0.0)
RED = np.array([1.0, 0.0, 0.0], np.float32)


def replace_p(cfg: DegradeConfig, **p) -> DegradeConfig:
    """``cfg`` with some probabilities changed."""
    return replace(cfg, **p)


def red_view(h: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A render-like RGBA: a red L-shape on a transparent black background, and its foreground ``alpha >= 128``
    like the lift3d reader."""
    rgba = np.zeros((h, h, 4), np.uint8)
    rgba[12:52, 14:30] = (255, 0, 0, 255)
    rgba[38:52, 14:50] = (255, 0, 0, 255)
    return rgba, rgba[..., 3] >= 128


def framed_view(h: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A red L-shape (bars 16 px wide) touching all four image borders: erosion, dilation and holes cannot move
    its bounding box, so prepare_image frames the perturbed and the clean view identically (pixels comparable)."""
    rgba = np.zeros((h, h, 4), np.uint8)
    rgba[:, :16] = rgba[h - 16:] = (255, 0, 0, 255)
    return rgba, rgba[..., 3] >= 128


def prepared(size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rgba, fg = red_view()
    return prepare_image(rgba, fg, size=size)


def smooth_image(size: int = 48, seed: int = 0) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size] / size
    rng = np.random.default_rng(seed)
    img = np.stack([0.5 + 0.4 * np.sin(6 * xx + p) * np.cos(4 * yy) for p in rng.uniform(0, 3, 3)])
    return img.astype(np.float32)


# ---------------------------------------------------------------- the functions


@pytest.mark.parametrize("fn", [D.gaussian_blur, D.sensor_noise, D.jpeg_compress])
def test_photo_degradations_keep_shape_dtype_range_and_are_seeded(fn):
    img = smooth_image()
    img[:, :4] = 1.0  # saturated pixels must stay in range (noise clips)
    img[:, 4:8] = 0.0
    out = fn(img, np.random.default_rng(1))
    assert out.shape == img.shape and out.dtype == np.float32 and 0.0 <= out.min() and out.max() <= 1.0
    assert not np.array_equal(out, img)
    np.testing.assert_array_equal(out, fn(img, np.random.default_rng(1)))
    assert np.array_equal(img[:, :4], np.ones_like(img[:, :4]))  # input untouched


@pytest.mark.parametrize("fn", [D.erode_mask, D.dilate_mask, D.punch_holes])
def test_mask_perturbations_keep_shape_and_are_seeded(fn):
    _, fg = red_view()
    fg.flags.writeable = False  # cached views are read-only
    out = fn(fg, np.random.default_rng(2), scale=1.5)
    assert out.shape == fg.shape and out.dtype == bool and not np.array_equal(out, fg)
    np.testing.assert_array_equal(out, fn(fg, np.random.default_rng(2), scale=1.5))
    if fn is D.dilate_mask:
        assert np.all(out >= fg)
    else:
        assert np.all(out <= fg) and out.sum() > 0.5 * fg.sum()


def test_jpeg_changes_the_image_but_keeps_it_close():
    img = smooth_image()
    for seed in range(5):
        out = D.jpeg_compress(img, np.random.default_rng(seed))
        diff = np.abs(out - img)
        assert 0.0 < diff.mean() < 0.02 and diff.max() < 0.25
    low = D.jpeg_compress(img, np.random.default_rng(0), quality=(30, 30))
    high = D.jpeg_compress(img, np.random.default_rng(0), quality=(95, 95))
    assert np.abs(high - img).mean() < np.abs(low - img).mean()


def test_degrade_with_every_probability_zero_is_the_identity():
    img, m = prepared()
    out, mask = D.degrade(img, m, np.random.default_rng(0), OFF)
    np.testing.assert_array_equal(out, img)
    np.testing.assert_array_equal(mask, m)
    rgba, fg = red_view()
    np.testing.assert_array_equal(D.perturb_view(rgba, fg, np.random.default_rng(0), OFF, 32)[1], fg)


def test_degrade_everything_keeps_shapes_ranges_and_is_deterministic():
    img, m = prepared()
    full = DegradeConfig().with_probability(1.0)
    out, mask = D.degrade(img, m, np.random.default_rng(3), full)
    assert out.shape == img.shape and mask.shape == m.shape and out.dtype == mask.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 1 and 0 <= mask.min() and mask.max() <= 1
    assert not np.array_equal(out, img) and not np.array_equal(mask, m)
    again = D.degrade(img, m, np.random.default_rng(3), full)
    np.testing.assert_array_equal(out, again[0])
    np.testing.assert_array_equal(mask, again[1])
    assert not np.array_equal(out, D.degrade(img, m, np.random.default_rng(4), full)[0])


def test_perturbation_that_would_erase_the_object_is_dropped():
    thin = np.zeros((40, 40), bool)
    thin[5:35, 20] = True  # a 1 px wide leg: any erosion removes all of it
    out = D.perturb_mask(thin, np.random.default_rng(0), replace_p(OFF, p_erode=1.0))
    np.testing.assert_array_equal(out, thin)


# ---------------------------------------------------------------- image and mask stay aligned


@pytest.mark.parametrize("seed", range(4))
def test_eroded_or_holed_mask_composites_removed_pixels_as_background(seed):
    rgba, fg = framed_view()
    _, clean_m = prepare_image(rgba, fg, size=32)
    cfg = replace_p(OFF, p_erode=1.0, p_holes=1.0)
    rgba2, fg2 = D.perturb_view(rgba, fg, np.random.default_rng(seed), cfg, 32)
    img, m = prepare_image(rgba2, fg2, size=32)  # the compositing step of prepared_views
    removed = (clean_m[0] == 1) & (m[0] == 0)
    assert removed.sum() > 3 and np.all(img[:, removed] == 1.0)  # removed object pixels became background
    out = m[0] == 0
    assert np.all(img[:, out] == 1.0)  # everything outside the returned mask is white background ...
    inside = m[0] == 1
    assert np.all(img[:, inside] == RED[:, None])  # ... and everything fully inside it is the object
    # a mask one pixel off would put red outside it or white inside it
    shifted = np.roll(m[0], 1, axis=1)
    assert not (np.all(img[:, shifted == 0] == 1.0) and np.all(img[:, shifted == 1] == RED[:, None]))


@pytest.mark.parametrize("seed", range(4))
def test_dilated_mask_shows_the_background_in_its_added_pixels(seed):
    rgba, fg = framed_view()
    _, clean_m = prepare_image(rgba, fg, size=32)
    rgba2, fg2 = D.perturb_view(rgba, fg, np.random.default_rng(seed), replace_p(OFF, p_dilate=1.0), 32)
    assert rgba[..., :3].max() == 255 and rgba[-1, -1, :3].tolist() == [255, 0, 0]  # inputs untouched
    assert rgba[0, -1, :3].tolist() == [0, 0, 0]
    img, m = prepare_image(rgba2, fg2, size=32)
    added = (m[0] == 1) & (clean_m[0] == 0)
    assert added.sum() >= 3
    assert np.all(img[:, added] == 1.0)  # the render's (white) background, not its black transparent RGB
    assert np.all(img[:, m[0] == 0] == 1.0)
    assert np.all(img[:, clean_m[0] == 1] == RED[:, None])  # the object itself is unchanged
    shifted = np.roll(m[0], 1, axis=0)
    assert not np.all(img[:, shifted == 0] == 1.0)


def test_dilation_composites_soft_edges_over_white_by_their_alpha():
    rgba, fg = red_view()
    rgba[11, 14:30] = (255, 0, 0, 64)  # a soft edge row just outside the foreground
    rgba2, fg2 = D.perturb_view(rgba, fg, np.random.default_rng(0), replace_p(OFF, p_dilate=1.0), 32)
    assert fg2[11, 20] and not fg[11, 20]
    np.testing.assert_array_equal(rgba2[11, 20, :3], [255, 191, 191])  # red at 1/4 over white
    np.testing.assert_array_equal(rgba2[fg2 & ~fg & (rgba[..., 3] == 0), :3], 255)
    assert rgba[11, 20, 1] == 0  # input untouched


def test_dilation_of_an_opaque_photo_shows_its_real_surroundings():
    rgba, fg = red_view()
    rgba[..., 3] = 255
    rgba[~fg, :3] = (0, 0, 255)  # a blue wall around the object, a separate mask file (Pix3D)
    rgba2, fg2 = D.perturb_view(rgba, fg, np.random.default_rng(0), replace_p(OFF, p_dilate=1.0), 32)
    np.testing.assert_array_equal(rgba2, rgba)
    assert fg2.sum() > fg.sum()


def test_degrade_on_prepared_images_keeps_image_and_mask_aligned():
    img, m = prepared()
    for cfg in (replace_p(OFF, p_erode=1.0, p_holes=1.0), replace_p(OFF, p_dilate=1.0)):
        out, mask = D.degrade(img, m, np.random.default_rng(5), cfg)
        assert not np.array_equal(mask, m)
        assert np.all(out[:, mask[0] == 0] == 1.0)
        added = (mask[0] == 1) & (m[0] == 0)
        assert added.any() == (cfg.p_dilate == 1.0)
        assert np.all(out[:, added] == 1.0)  # added pixels show the white background
        kept = (mask[0] > 0) & (m[0] > 0)
        np.testing.assert_array_equal(out[:, kept], img[:, kept])


# ---------------------------------------------------------------- the dataset and the config


def test_dataset_degrades_only_augmented_views(tiny_dataset):
    kw = dict(views=3, targets=(), image_size=24, seed=5)
    clean = ShapeDataset(tiny_dataset, "train", augment=True, **kw)
    noisy = ShapeDataset(tiny_dataset, "train", augment=True, **kw)
    assert not clean.degrade  # off unless asked (the trainer asks through data.degrade)
    noisy.degrade = True
    noisy.degrade_config = DegradeConfig().with_probability(0.7)
    a, b = clean[0], noisy[0]
    assert a["images"].shape == b["images"].shape and b["images"].dtype == np.float32
    assert not np.array_equal(a["images"], b["images"])
    np.testing.assert_array_equal(b["images"], noisy[0]["images"])  # same (seed, epoch, item) -> same draw
    noisy.set_epoch(1)
    assert not np.array_equal(b["images"], noisy[0]["images"])
    # all probabilities 0: exactly the jittered views (degradation draws do not shift the jitter stream)
    noisy.set_epoch(0)
    noisy.degrade_config = OFF
    np.testing.assert_array_equal(noisy[0]["images"], a["images"])
    # mask perturbations only: the returned masks are the ones the images were composited with
    noisy.degrade_config = replace_p(OFF, p_erode=0.5, p_dilate=0.5, p_holes=1.0)
    for i in range(len(noisy)):
        it = noisy[i]
        assert np.all(it["images"][np.broadcast_to(it["masks"] == 0, it["images"].shape)] == 1.0)
    # evaluation views are never degraded
    plain = ShapeDataset(tiny_dataset, "val", **kw)
    off = ShapeDataset(tiny_dataset, "val", **kw)
    off.degrade = True
    np.testing.assert_array_equal(plain[0]["images"], off[0]["images"])


def test_config_key_reaches_the_training_set_only(tiny_dataset):
    cfg = load_config("configs/tiny.yaml", {"data": {"root": str(tiny_dataset), "augment": True}})
    assert cfg["data"]["degrade"] is True
    train, val = datasets_from_config(cfg)
    assert train.degrade and train.augment and not val.augment and not val.degrade
    cfg = load_config("configs/tiny.yaml", {"data": {"root": str(tiny_dataset), "degrade": False}})
    assert not datasets_from_config(cfg)[0].degrade
    with pytest.raises(InputError, match="data.degrade"):
        load_config("configs/tiny.yaml", {"data": {"degrade": "no"}})


def test_config_layout_picks_the_reader(tiny_dataset):
    cfg = load_config("configs/tiny.yaml", {"data": {"root": str(tiny_dataset), "layout": "lift3d"}})
    assert len(datasets_from_config(cfg)[0]) > 0
    cfg = load_config("configs/tiny.yaml", {"data": {"root": str(tiny_dataset), "layout": "pix3d"}})
    with pytest.raises(Lift3DError):
        datasets_from_config(cfg)  # a lift3d folder read as Pix3D: the named reader is used, and refuses it
