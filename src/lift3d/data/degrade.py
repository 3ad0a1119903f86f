"""Training-time degradations that make clean synthetic views look more like real photos with imperfect masks.

Two kinds, each applied with a probability (:class:`DegradeConfig`) and drawn from an ``np.random.Generator``:

* mask perturbations -- erosion, dilation, holes (small discs removed): they change which pixels count as the
  object, so they must act *before* compositing on the background (:func:`perturb_mask`, :func:`perturb_view`),
  and the image must be composited with the perturbed mask (pixels removed from the mask become background,
  pixels added show what the photo has there);
* photo degradations -- Gaussian blur, Gaussian sensor noise, JPEG compression: they act on the whole composited
  image, background included, like a camera and an encoder would (:func:`degrade_image`).

Shapes: images float32 ``(3, S, S)`` in [0, 1]; prepared masks float32 ``(1, S, S)`` in [0, 1]; source masks bool
``(H, W)``; source images uint8 RGBA ``(H, W, 4)``. Sizes of mask perturbations are given in output pixels and
multiplied by ``scale`` (source pixels per output pixel) when they act on a full-resolution mask.

:meth:`lift3d.data.readers.base.DatasetBase.prepared_views` uses :func:`perturb_view` + :func:`degrade_image`;
:func:`degrade` does the same to an already prepared (composited on white) image and its mask.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, fields, replace

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class DegradeConfig:
    """Probabilities and parameter ranges (``(low, high)``, drawn uniformly) of the degradations.

    Erosion and dilation exclude each other (one draw: erode with ``p_erode``, else dilate with ``p_dilate``);
    every other degradation is drawn independently. Radii are in output pixels.
    """

    p_erode: float = 0.15
    erode_px: tuple[float, float] = (1.0, 1.5)
    p_dilate: float = 0.15
    dilate_px: tuple[float, float] = (1.0, 2.0)
    p_holes: float = 0.15
    holes: tuple[int, int] = (1, 4)
    hole_px: tuple[float, float] = (0.8, 2.5)
    p_blur: float = 0.25
    blur_sigma: tuple[float, float] = (0.3, 1.0)
    p_noise: float = 0.25
    noise_std: tuple[float, float] = (0.005, 0.03)
    p_jpeg: float = 0.3
    jpeg_quality: tuple[int, int] = (30, 95)

    def with_probability(self, p: float) -> DegradeConfig:
        """The same ranges with every probability set to ``p`` (``0`` turns everything off, ``1`` forces it;
        with ``1`` erosion always wins over dilation)."""
        return replace(self, **{f.name: float(p) for f in fields(self) if f.name.startswith("p_")})


# ----------------------------------------------------------------------------------------- mask perturbations


def erode_mask(mask: np.ndarray, rng: np.random.Generator, radius: tuple[float, float] = (1.0, 1.5),
               scale: float = 1.0) -> np.ndarray:
    """Shrink bool ``(H, W)`` -> bool ``(H, W)``: drop foreground pixels within ``r * scale`` pixels of the
    background (``r`` drawn from ``radius``; 1 removes one layer of 4-neighbours)."""
    from scipy import ndimage  # imported on first use: scipy.ndimage takes ~0.5 s to import

    r = rng.uniform(*radius) * scale
    return ndimage.distance_transform_edt(mask) > r


def dilate_mask(mask: np.ndarray, rng: np.random.Generator, radius: tuple[float, float] = (1.0, 2.0),
                scale: float = 1.0) -> np.ndarray:
    """Grow bool ``(H, W)`` -> bool ``(H, W)``: add background pixels within ``r * scale`` pixels of the
    foreground (``r`` drawn from ``radius``)."""
    from scipy import ndimage

    r = rng.uniform(*radius) * scale
    return mask | (ndimage.distance_transform_edt(~mask) <= r)


def punch_holes(mask: np.ndarray, rng: np.random.Generator, count: tuple[int, int] = (1, 4),
                radius: tuple[float, float] = (0.8, 2.5), scale: float = 1.0) -> np.ndarray:
    """Remove ``n`` (drawn from ``count``, inclusive) discs of radius ``r * scale`` centred on random foreground
    pixels from bool ``(H, W)`` -> bool ``(H, W)`` (holes inside, bites at the silhouette)."""
    ys, xs = np.nonzero(mask)
    out = mask.copy()
    if len(ys) == 0:
        return out
    h, w = mask.shape
    for k in rng.integers(0, len(ys), int(rng.integers(count[0], count[1] + 1))):
        r = rng.uniform(*radius) * scale
        cy, cx, ri = int(ys[k]), int(xs[k]), int(math.ceil(r))
        y0, y1, x0, x1 = max(cy - ri, 0), min(cy + ri + 1, h), max(cx - ri, 0), min(cx + ri + 1, w)
        yy, xx = np.ogrid[y0 - cy:y1 - cy, x0 - cx:x1 - cx]
        out[y0:y1, x0:x1] &= yy * yy + xx * xx > r * r
    return out


def perturb_mask(mask: np.ndarray, rng: np.random.Generator, cfg: DegradeConfig,
                 scale: float = 1.0) -> np.ndarray:
    """Erode or dilate, and punch holes, each with its probability: bool ``(H, W)`` -> bool ``(H, W)``.

    Works on the object's bounding box (padded by the largest dilation), so a large photo costs no more than its
    object. A perturbation that would leave under half of the object (thin parts eroded away) is dropped: the
    original mask comes back. ``mask`` is never modified.
    """
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return mask
    pad = int(math.ceil(cfg.dilate_px[1] * scale)) + 1
    win = (slice(max(rows[0] - pad, 0), rows[-1] + 1 + pad), slice(max(cols[0] - pad, 0), cols[-1] + 1 + pad))
    sub = orig = mask[win]
    u = rng.uniform()
    if u < cfg.p_erode:
        sub = erode_mask(sub, rng, cfg.erode_px, scale)
    elif u < cfg.p_erode + cfg.p_dilate:
        sub = dilate_mask(sub, rng, cfg.dilate_px, scale)
    if rng.uniform() < cfg.p_holes:
        sub = punch_holes(sub, rng, cfg.holes, cfg.hole_px, scale)
    if sub is orig or sub.sum() < max(16, 0.5 * orig.sum()):
        return mask
    out = mask.copy()
    out[win] = sub
    return out


def perturb_view(rgba: np.ndarray, fg: np.ndarray, rng: np.random.Generator, cfg: DegradeConfig, size: int,
                 margin: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    """A full-resolution view ``(rgba uint8 (H, W, 4), fg bool (H, W))`` with a perturbed foreground, ready for
    :func:`lift3d.data.preprocess.prepare_image` (which composites with the mask it is given).

    Sizes are output pixels of a ``size`` crop with ``margin`` (as prepare_image frames the object). Pixels the
    perturbation adds get the photo's colour there: the RGB composited over white by the image's own alpha, so a
    transparent render shows its white background and an opaque photo (Pix3D) its real surroundings, as a loose
    mask of a real photo would. Pixels it removes become background in prepare_image. Inputs are not modified
    (cached views are read-only).
    """
    rows, cols = np.flatnonzero(fg.any(axis=1)), np.flatnonzero(fg.any(axis=0))
    if len(rows) == 0:
        return rgba, fg
    side = max(rows[-1] + 1 - rows[0], cols[-1] + 1 - cols[0]) / (1.0 - 2.0 * margin)
    new = perturb_mask(fg, rng, cfg, scale=side / size)
    added = new & ~fg
    if added.any():
        rgba = rgba.copy()
        alpha = rgba[added, 3:4].astype(np.float32) / 255.0
        rgba[added, :3] = np.round(rgba[added, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return rgba, new


# ----------------------------------------------------------------------------------------- photo degradations


def gaussian_blur(img: np.ndarray, rng: np.random.Generator,
                  sigma: tuple[float, float] = (0.3, 1.0)) -> np.ndarray:
    """Defocus / motion-free lens blur of ``(3, S, S)`` -> ``(3, S, S)`` float32, sigma (pixels) drawn from
    ``sigma``; edges replicate."""
    from scipy import ndimage

    s = rng.uniform(*sigma)
    return ndimage.gaussian_filter(img, (0.0, s, s), mode="nearest").astype(np.float32)


def sensor_noise(img: np.ndarray, rng: np.random.Generator,
                 std: tuple[float, float] = (0.005, 0.03)) -> np.ndarray:
    """Additive Gaussian noise, independent per pixel and channel, std drawn from ``std``:
    ``(3, S, S)`` -> ``(3, S, S)`` float32 clipped to [0, 1]."""
    s = rng.uniform(*std)
    noisy = img + rng.normal(0.0, s, img.shape).astype(np.float32)
    return np.clip(noisy, 0.0, 1.0, out=noisy)


def jpeg_compress(img: np.ndarray, rng: np.random.Generator,
                  quality: tuple[int, int] = (30, 95)) -> np.ndarray:
    """Encode and decode as JPEG (PIL, 4:2:0 chroma) at a quality drawn from ``quality`` (inclusive):
    ``(3, S, S)`` -> ``(3, S, S)`` float32 in [0, 1] (8-bit steps)."""
    q = int(rng.integers(quality[0], quality[1] + 1))
    u8 = np.round(np.clip(img, 0.0, 1.0).transpose(1, 2, 0) * 255.0).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(u8, "RGB").save(buf, format="JPEG", quality=q)
    buf.seek(0)
    with Image.open(buf) as im:
        out = np.asarray(im.convert("RGB"), np.float32) / 255.0
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def degrade_image(img: np.ndarray, rng: np.random.Generator, cfg: DegradeConfig) -> np.ndarray:
    """Blur, then sensor noise, then JPEG (the order of a camera and its encoder), each with its probability:
    ``(3, S, S)`` -> ``(3, S, S)`` float32 in [0, 1]; the input itself when none is drawn."""
    if rng.uniform() < cfg.p_blur:
        img = gaussian_blur(img, rng, cfg.blur_sigma)
    if rng.uniform() < cfg.p_noise:
        img = sensor_noise(img, rng, cfg.noise_std)
    if rng.uniform() < cfg.p_jpeg:
        img = jpeg_compress(img, rng, cfg.jpeg_quality)
    return img


# ----------------------------------------------------------------------------------------- prepared images


def recomposite(img: np.ndarray, mask: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A prepared image ``(3, S, S)`` composited on white with ``mask`` ``(1, S, S)``, re-composited with the
    perturbed binary foreground ``new`` bool ``(S, S)`` -> ``(image, mask)``: removed pixels (``mask > 0.5`` but
    not ``new``) become white with mask 0; added pixels get mask 1 and keep the image, which is already the white
    background there. Soft edge pixels the perturbation does not touch keep their values."""
    old = mask[0] > 0.5
    removed, added = old & ~new, new & ~old
    if not removed.any() and not added.any():
        return img, mask
    img, mask = img.copy(), mask.copy()
    img[:, removed] = 1.0
    mask[0][removed] = 0.0
    mask[0][added] = 1.0
    return img, mask


def degrade(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator,
            cfg: DegradeConfig | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All degradations of a prepared view: ``img`` float32 ``(3, S, S)`` in [0, 1] composited on white with
    ``mask`` float32 ``(1, S, S)`` -> ``(img, mask)`` of the same shapes.

    The mask is perturbed at the output resolution and the image re-composited with it (:func:`recomposite`),
    then blurred / noised / JPEG-compressed as a whole. The returned mask is the one the image is composited
    with. Every probability 0 returns the inputs unchanged. (Training data perturbs the full-resolution mask
    before compositing instead, :func:`perturb_view`: that keeps soft edges and a photo's real surroundings.)
    """
    cfg = cfg or DegradeConfig()
    img, mask = recomposite(img, mask, perturb_mask(mask[0] > 0.5, rng, cfg))
    return degrade_image(img, rng, cfg), mask
