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

    Uses the alpha channel when it is not fully opaque; otherwise colour-keys the background, estimated
    as the median colour of the image border (a plain background), with a relative ``tolerance``.
    Raises :class:`InputError` when no foreground can be found.
    """
    alpha = rgba[..., 3]
    if alpha.min() < 250:
        mask = alpha >= 128
    else:
        rgb = rgba[..., :3].astype(np.float32) / 255.0
        border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
        bg = np.median(border, axis=0)
        spread = np.percentile(np.abs(border - bg).max(axis=1), 90)
        if spread > 0.15:
            raise InputError(
                "could not separate the object from the background (the border is not a plain colour); "
                "use an image with transparency or pass --mask"
            )
        mask = np.abs(rgb - bg).max(axis=-1) > max(tolerance, 2.5 * spread)
        mask = _largest_components(mask)
    if mask.sum() < 16:
        raise InputError("no foreground object found in the image (mask is empty)")
    return mask


def _largest_components(mask: np.ndarray, keep_fraction: float = 0.05) -> np.ndarray:
    """Drop speckle: keep connected components larger than ``keep_fraction`` of the largest; fill holes."""
    from scipy import ndimage

    labels, n = ndimage.label(mask)
    if n == 0:
        return mask
    sizes = ndimage.sum(mask, labels, index=np.arange(1, n + 1))
    keep = np.flatnonzero(sizes >= keep_fraction * sizes.max()) + 1
    return ndimage.binary_fill_holes(np.isin(labels, keep))


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
