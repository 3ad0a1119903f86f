"""Image preprocessing shared by training data and inference (reading images is :mod:`lift3d.io.images`).

Every image the model sees, synthetic or a user's photo, goes through :func:`prepare_image`: crop to the
foreground's bounding box, pad to a square with a margin, composite on a plain background and resize.
That makes the model independent of where and how large the object appears in the frame.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from lift3d.errors import InputError


def foreground_mask(rgba: np.ndarray, tolerance: float = 0.12) -> np.ndarray:
    """Foreground of an RGBA image ``(H, W, 4)`` -> bool ``(H, W)``.

    Uses the alpha channel when it is not fully opaque. Otherwise the image is an object on a plain background,
    keyed out in four steps (see :func:`_background_model`, :func:`_shadow`):

    1. the background colour is a smooth (quadratic) function of position fitted robustly to the image border,
       so gradients and vignetting are modelled, and an object touching the border does not bias it;
    2. pixels farther than ``tolerance`` (or 2.5x the border's own noise, e.g. JPEG noise) from it are candidates;
    3. a soft shadow on the background (the background's colour, 0.4-1x as bright, reached from the background
       through smoothly varying pixels only) is background, also the shadowed floor seen between an object's
       legs; a grey object has a sharp edge and stays;
    4. small components (speckle) are dropped, and holes are filled unless they are plainly background (the
       opening of a handle).

    Raises :class:`InputError` when the border is not a plain colour or no foreground can be found.
    """
    alpha = rgba[..., 3]
    if alpha.min() < 250:
        mask = alpha >= 128
    else:
        from scipy import ndimage

        rgb = rgba[..., :3].astype(np.float32) / 255.0
        smooth = ndimage.gaussian_filter(rgb, (1.0, 1.0, 0)) if min(rgb.shape[:2]) >= 16 else rgb
        bg, noise = _background_model(rgb)
        diff = np.abs(rgb - bg).max(axis=-1)
        level = max(tolerance, 2.5 * noise)
        bg_core = diff <= level
        shadow = _shadow(smooth, bg, bg_core, noise)
        mask = ~(bg_core | shadow)
        # Background the object encloses is a hole: filled unless it is plainly background (see the hole rule).
        clear = (diff <= max(0.04, 3.0 * noise)) | shadow
        mask = _largest_components(mask, background=clear)
    if mask.sum() < 16:
        raise InputError("no foreground object found in the image (mask is empty)")
    return mask


_PLAIN_ERROR = ("could not separate the object from the background (the border is not a plain colour); "
                "use an image with transparency or pass --mask")


def _background_model(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """Robust quadratic fit of the background colour to the image border -> ``(bg (H, W, 3), noise)``.

    The border ring (a few pixels wide) is fitted per channel with ``1, x, y, x^2, xy, y^2`` by iteratively
    reweighted least squares keeping inliers only, so up to about a third of the border may be object. ``noise``
    is the 90th percentile of the inliers' residual. Raises :class:`InputError` when fewer than 60% of the border
    pixels fit a smooth background (a busy scene).
    """
    h, w = rgb.shape[:2]
    k = max(1, min(h, w) // 100)
    ring = np.zeros((h, w), bool)
    ring[:k], ring[-k:], ring[:, :k], ring[:, -k:] = True, True, True, True
    ys, xs = np.nonzero(ring)
    u, v = xs / max(1, w - 1) * 2 - 1, ys / max(1, h - 1) * 2 - 1
    basis = np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], axis=1)
    pix = rgb[ring]
    fit = np.broadcast_to(np.median(pix, axis=0), pix.shape)
    inl = np.ones(len(pix), bool)
    for it in range(4):
        res = np.abs(pix - fit).max(axis=1)
        inl = res <= (0.15 if it == 0 else max(0.04, 3.0 * float(np.percentile(res[inl], 75))))
        if inl.sum() < basis.shape[1] * 4:
            raise InputError(_PLAIN_ERROR)
        coef, *_ = np.linalg.lstsq(basis[inl], pix[inl], rcond=None)
        fit = basis @ coef
    res = np.abs(pix - fit).max(axis=1)
    inl = res <= 0.06
    if inl.mean() < 0.6:
        raise InputError(_PLAIN_ERROR)
    yy, xx = np.mgrid[0:h, 0:w]
    U, V = xx / max(1, w - 1) * 2 - 1, yy / max(1, h - 1) * 2 - 1
    full = np.stack([np.ones_like(U), U, V, U * U, U * V, V * V], axis=-1).astype(np.float32)
    bg = np.clip(full @ coef.astype(np.float32), 0.0, 1.0)
    return bg, float(np.percentile(res[inl], 90))


def _shadow(rgb: np.ndarray, bg: np.ndarray, bg_core: np.ndarray, noise: float) -> np.ndarray:
    """Soft shadow cast on the background -> bool ``(H, W)``.

    A shadow pixel has the background's chromaticity at 0.4-1x its brightness, lies where the brightness varies
    smoothly (no sharp edge), and is connected to the clear background only through such pixels. A grey object on
    a white background has the first two properties but a sharp outline, which cuts it off from the background.
    Where the outline has gaps (it fades into the object's own shadow), two more rules protect the object:

    * outside the convex hull of each part that is surely object, only the lower part of the object's extent can
      be shadow (a pale part with no visible outline, like a chair's seat, stays);
    * inside a hull, a shadow-like region is floor (seen between a table's legs, under its top) only when its
      sharp outline mostly borders the object, not the clear background (a grey box's top and sides do), and it
      opens onto the shadow or background below its middle through a wide gap (a box's interior reaches its
      shadow through narrow gaps in the outline, or from its upper part).
    """
    from scipy import ndimage

    lum_bg = np.maximum(bg.sum(axis=-1), 1e-3)
    ratio = rgb.sum(axis=-1) / lum_bg
    chroma = np.abs(rgb - ratio[..., None] * bg).max(axis=-1)
    # A sharp edge: the local slope is a large part of the whole step seen in a 7x7 window (a step blurred over
    # a pixel or two); a soft shadow's penumbra is a ramp over many pixels with a small slope for its step.
    grad = np.hypot(ndimage.sobel(ratio, 0), ndimage.sobel(ratio, 1)) / 8.0
    step = ndimage.maximum_filter(ratio, 7) - ndimage.minimum_filter(ratio, 7)
    edge = ndimage.binary_dilation((step > max(0.04, 4.0 * noise)) & (grad > 0.2 * step), iterations=1)
    candidate = (ratio >= 0.4) & (ratio < 1.05) & (chroma <= max(0.05, 2.0 * noise)) & ~edge & ~bg_core
    # What is surely object (not background, not shadow-like, or a sharp edge) protects its convex hull: a grey
    # object whose outline fades into its own shadow keeps the inside of the outline that is visible.
    core = ~candidate & ~bg_core
    hull = np.zeros_like(bg_core)
    low = candidate.copy()
    labels, n = ndimage.label(core, structure=np.ones((3, 3)))
    if n:
        from skimage.morphology import convex_hull_object

        sizes = ndimage.sum(core, labels, index=np.arange(1, n + 1))
        core = np.isin(labels, np.flatnonzero(sizes >= max(16, 1e-4 * core.size)) + 1)  # not JPEG speckle
        hull = convex_hull_object(core, connectivity=2)
        rows = np.flatnonzero(core.any(axis=1))
        if len(rows):
            low[: int(rows[0] + 0.55 * (rows[-1] - rows[0]))] = False
    free = low & ~hull
    inside, m = ndimage.label(candidate & hull)
    if m:
        free |= _floor_in_hull(inside, m, edge & core, free | bg_core, bg_core)[inside] & candidate
    labels, n = ndimage.label(free | bg_core)
    if n == 0:
        return np.zeros_like(bg_core)
    touching = np.unique(labels[bg_core])
    return np.isin(labels, touching[touching > 0]) & free


def _floor_in_hull(inside: np.ndarray, m: int, rim: np.ndarray, open_: np.ndarray, bg_core: np.ndarray
                   ) -> np.ndarray:
    """Which of the ``m`` labelled shadow-like regions inside object hulls are floor -> bool ``(m + 1,)``.

    ``rim`` is the object's sharp outline, ``open_`` the shadow and background a region may open onto. A region
    is floor when at most 70% of the outline within 2 px of it has the clear background within 4 px, and the
    pixels of ``open_`` touching it below its centroid number at least half the square root of its area.
    """
    from scipy import ndimage

    size = np.bincount(inside.ravel(), minlength=m + 1)
    owner = ndimage.maximum_filter(inside, 5)
    rim = rim & (owner > 0)
    facing = rim & ndimage.binary_dilation(bg_core, iterations=4)
    outline = np.bincount(owner[rim], minlength=m + 1)
    to_bg = np.bincount(owner[facing], minlength=m + 1)
    ys = np.indices(inside.shape)[0]
    cy = np.bincount(inside.ravel(), ys.ravel(), minlength=m + 1) / np.maximum(size, 1)
    touch = ndimage.maximum_filter(inside, 3)
    gap = (touch > 0) & (inside == 0) & open_
    below = np.bincount(touch[gap], ys[gap] > cy[touch[gap]], minlength=m + 1)
    floor = (to_bg <= 0.7 * np.maximum(outline, 1)) & (below >= 0.5 * np.sqrt(size))
    floor[0] = False
    return floor


def _largest_components(mask: np.ndarray, keep_fraction: float = 0.05,
                        background: np.ndarray | None = None) -> np.ndarray:
    """Drop speckle: keep connected components larger than ``keep_fraction`` of the largest; fill holes.

    With ``background`` (pixels clearly of the background's colour), a hole that is 90% such pixels and larger
    than 0.2% of the image (the opening of a mug's handle) stays open.
    """
    from scipy import ndimage

    labels, n = ndimage.label(mask)
    if n == 0:
        return mask
    sizes = ndimage.sum(mask, labels, index=np.arange(1, n + 1))
    keep = np.flatnonzero(sizes >= keep_fraction * sizes.max()) + 1
    kept = np.isin(labels, keep)
    filled = ndimage.binary_fill_holes(kept)
    if background is None:
        return filled
    holes, nh = ndimage.label(filled & ~kept)
    if nh:
        area = ndimage.sum(np.ones_like(kept), holes, index=np.arange(1, nh + 1))
        bgfrac = ndimage.mean(background, holes, index=np.arange(1, nh + 1))
        opened = np.flatnonzero((area > 0.002 * mask.size) & (bgfrac > 0.9)) + 1
        filled &= ~np.isin(holes, opened)
    return filled


def prepare_image(rgba: np.ndarray, mask: np.ndarray | None = None, size: int = 128, margin: float = 0.08,
                  background: tuple[float, float, float] = (1.0, 1.0, 1.0),
                  jitter: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Crop, pad, composite and resize one view.

    Args:
        rgba: uint8 ``(H, W, 4)`` image.
        mask: bool ``(H, W)`` foreground; computed with :func:`foreground_mask` when ``None``.
        size: output side in pixels.
        margin: border around the object's bounding box, as a fraction of the square side.
        background: RGB in [0, 1] that replaces everything outside the mask.
        jitter: optional ``(3,)`` = (dx, dy, dscale) box jitter (fractions) used for augmentation.

    Returns:
        ``(image float32 (3, size, size) in [0, 1], mask float32 (1, size, size))``.
    """
    if rgba.ndim != 3 or rgba.shape[2] != 4 or min(rgba.shape[:2]) == 0:
        raise InputError(f"expected an RGBA image (H, W, 4), got shape {rgba.shape}")
    if mask is None:
        mask = foreground_mask(rgba)
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        raise InputError("no foreground object found in the image (mask is empty)")
    cy, cx = (ys.min() + ys.max() + 1) / 2.0, (xs.min() + xs.max() + 1) / 2.0
    side = max(ys.max() + 1 - ys.min(), xs.max() + 1 - xs.min()) / (1.0 - 2.0 * margin)
    if jitter is not None:
        cx += jitter[0] * side
        cy += jitter[1] * side
        side *= 1.0 + jitter[2]
    rgb = rgba[..., :3].astype(np.float32) / 255.0
    m = mask.astype(np.float32)
    comp = rgb * m[..., None] + np.asarray(background, np.float32) * (1.0 - m[..., None])
    stacked = np.concatenate([comp, m[..., None]], axis=-1)
    # Crop box in source pixels; PIL's affine resize pads outside the image with the fill value.
    box = (cx - side / 2.0, cy - side / 2.0, cx + side / 2.0, cy + side / 2.0)
    out = np.empty((size, size, 4), np.float32)
    for c in range(4):
        fill = background[c] if c < 3 else 0.0
        chan = Image.fromarray(stacked[..., c], mode="F")
        warped = chan.transform((size, size), Image.Transform.EXTENT, box, Image.Resampling.BILINEAR,
                                fillcolor=fill)
        out[..., c] = np.asarray(warped)
    image = np.clip(out[..., :3], 0.0, 1.0).transpose(2, 0, 1)
    return np.ascontiguousarray(image), np.clip(out[..., 3:], 0, 1).transpose(2, 0, 1).copy()
