"""Shared pieces of the real-dataset readers: image + mask reading, bad-file handling, camera re-framing."""

from __future__ import annotations

import warnings

import numpy as np

from lift3d.errors import DatasetError, InputError
from lift3d.io.images import load_image, load_mask


def read_rgba(path, mask_path=None) -> tuple[np.ndarray, np.ndarray]:
    """One image (+ optional mask file) -> ``(rgba uint8 (H, W, 4), foreground bool (H, W))``: the mask file when
    given, else the alpha channel or a plain background (:func:`lift3d.data.preprocess.foreground_mask`).

    Any unreadable file becomes a :class:`DatasetError` naming it.
    """
    try:
        rgba = load_image(path)
        if mask_path is not None:
            return rgba, load_mask(mask_path, rgba.shape[:2])
        from lift3d.data.preprocess import foreground_mask

        return rgba, foreground_mask(rgba)
    except InputError as exc:
        raise DatasetError(f"bad sample {path}: {exc}") from exc


def filter_readable(items: list, check, skip_bad: bool) -> list:
    """Keep the items for which ``check(item)`` raises nothing; with ``skip_bad`` warn and drop the others,
    otherwise re-raise as :class:`DatasetError`."""
    kept = []
    for it in items:
        try:
            check(it)
            kept.append(it)
        except (DatasetError, InputError) as exc:
            if not skip_bad:
                raise DatasetError(str(exc)) from exc
            warnings.warn(f"skipped: {exc}", stacklevel=3)
    return kept


def verify_image(path) -> None:
    """Cheap integrity check of an image file (header + structure, no decoding); :class:`DatasetError` naming it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.verify()
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise DatasetError(f"corrupt or unreadable image {path}: {exc.__class__.__name__}: {exc}") from exc


def camera_in_frame(cam, centre: np.ndarray, scale: float):
    """The same view for coordinates re-expressed as ``p_new = (p_old - centre) * scale``.

    ``Xc = R p_old + t = R (p_new / scale + centre) + t``; camera coordinates are then divided by ``scale``
    (a uniform scale of camera space leaves every projection unchanged), giving ``t' = scale * (R centre + t)``.
    """
    from lift3d.geometry.cameras import Camera

    R = np.asarray(cam.R, np.float64)
    t = float(scale) * (R @ np.asarray(centre, np.float64) + np.asarray(cam.t, np.float64))
    return Camera(np.asarray(cam.K, np.float64), R, t, cam.width, cam.height)
