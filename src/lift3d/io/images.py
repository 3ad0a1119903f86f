"""Image reading (any PIL format) from a path or from bytes (a server receives uploads as bytes).

Images are read-only in the extension table: lift3d reads them as input and never writes them as a model file
(previews and contact sheets are written by their own code). The table's extensions name the usual image files;
:func:`load_image` itself goes by the bytes, so any format PIL reads works whatever the file is called. Images are
read at a working size (:data:`lift3d.limits.IMAGE_SIDE`), downscaled while decoded, after their header is checked
against :data:`lift3d.limits.IMAGE_PIXELS` (docs/limits.md).
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from lift3d import limits
from lift3d.errors import InputError
from lift3d.io.formats import FORMATS, FileFormat

ImageFile.LOAD_TRUNCATED_IMAGES = False

ImageSource = str | os.PathLike | bytes | bytearray | memoryview
"""A path, or the bytes of an image file."""


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Any integer/float pixel array -> uint8, rescaling 16-bit and float data."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        hi = 1.0 if float(np.nanmax(arr)) <= 1.0 else 255.0
        return np.clip(np.nan_to_num(arr) / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
    hi = 65535 if arr.max() > 255 else 255
    return np.clip(arr.astype(np.float64) / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)


def to_rgba(img: Image.Image) -> np.ndarray:
    """A PIL image of any mode (L, LA, P, RGB, RGBA, I;16, I, F, CMYK...) -> RGBA uint8 ``(H, W, 4)``."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        grey = _to_uint8(np.asarray(img))
        return np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode not in ("RGBA", "LA"):
        img = img.convert("RGB")
    rgba = np.asarray(img.convert("RGBA"), dtype=np.uint8)
    return np.ascontiguousarray(rgba)


def _is_bytes(src: ImageSource) -> bool:
    return isinstance(src, (bytes, bytearray, memoryview))


def _label(src: ImageSource, name: str | None) -> str:
    """How messages name the image: ``name``, else the path, else ``<bytes>``."""
    if name is not None:
        return name
    return "<bytes>" if _is_bytes(src) else str(Path(src))  # type: ignore[arg-type]


def _open(src: ImageSource, label: str) -> Image.Image:
    """Open (header only) an image from a path or bytes, refusing a missing file, an empty image and one over
    :data:`lift3d.limits.IMAGE_PIXELS` before any pixel is decoded. The caller closes it."""
    if _is_bytes(src):
        fp: io.BytesIO | Path = io.BytesIO(bytes(src))  # type: ignore[arg-type]
    else:
        fp = Path(src)  # type: ignore[arg-type]
        if not fp.is_file():
            raise InputError(f"image not found: {label}")
    cap = limits.IMAGE_PIXELS.value
    if cap > (Image.MAX_IMAGE_PIXELS or 0):
        Image.MAX_IMAGE_PIXELS = cap  # a user who raised our cap: PIL's own bomb check must not refuse first
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our cap below is the check
            img = Image.open(fp)
    except Image.DecompressionBombError as exc:
        raise InputError(f"image {label} is too large (a decompression bomb?): over the limit of {cap:,} pixels "
                         f"(set {limits.IMAGE_PIXELS.env} to change it)") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{label} is not a readable image ({exc.__class__.__name__})") from exc
    w, h = img.size
    if w == 0 or h == 0:
        img.close()
        raise InputError(f"image {label} is empty ({w}x{h})")
    try:
        limits.IMAGE_PIXELS.check(w * h, f"image {label} ({w}x{h})")
    except InputError:
        img.close()
        raise
    return img


def image_size(src: ImageSource, name: str | None = None) -> tuple[int, int]:
    """``(width, height)`` an image file declares, read from its header only (no decoding)."""
    with _open(src, _label(src, name)) as img:
        return img.size


def load_image(src: ImageSource, name: str | None = None, max_side: int | None = None) -> np.ndarray:
    """Read an image of any PIL format from a path or bytes -> RGBA uint8 ``(H, W, 4)`` at the working size.

    An image whose longer side exceeds ``max_side`` (default :data:`lift3d.limits.IMAGE_SIDE`, 1024) is downscaled
    *while it is decoded* (aspect ratio kept): a JPEG by the decoder's DCT scaling (``Image.draft`` to the smallest
    of 1/2, 1/4, 1/8 that still covers the working size: a 60 MP photo is decoded at 1/8 scale and never held at
    full size), then every format by ``Image.thumbnail`` (``Image.reduce`` box filter, bicubic finish). ``name``
    names the image in error messages (an upload's file name; default: the path, or ``<bytes>``). Raises
    :class:`InputError` for a missing file, non-image bytes, a truncated file, an empty image or one over
    :data:`lift3d.limits.IMAGE_PIXELS`.
    """
    p = _label(src, name)
    side = int(limits.IMAGE_SIDE.value if max_side is None else max_side)
    with _open(src, p) as img:
        try:
            if max(img.size) > side:
                scale = side / max(img.size)
                img.draft(None, (max(1, int(img.width * scale)), max(1, int(img.height * scale))))  # JPEG: DCT
                img.thumbnail((side, side), Image.Resampling.BICUBIC, reducing_gap=2.0)
            else:
                img.load()
            return to_rgba(img)
        except (OSError, SyntaxError, ValueError) as exc:
            raise InputError(f"image {p} is truncated or corrupt: {exc}") from exc


def load_mask(src: ImageSource, shape: tuple[int, int] | None = None, name: str | None = None) -> np.ndarray:
    """A mask image (white = object) from a path or bytes -> bool ``(H, W)`` at the working size (as
    :func:`load_image`); checks it matches ``shape`` (H, W), its image's working size, if given. ``name`` as in
    :func:`load_image`."""
    label = _label(src, name)
    rgba = load_image(src, label)
    grey = rgba[..., :3].mean(axis=-1) * (rgba[..., 3] / 255.0)
    mask = grey > 127
    if shape is not None and mask.shape != tuple(shape):
        side = limits.IMAGE_SIDE.value
        scaled = max(*mask.shape, *shape) >= side
        mw, mh = image_size(src, label) if scaled else (mask.shape[1], mask.shape[0])
        note = f" (both at the working size of {side} px)" if scaled else ""
        raise InputError(f"mask {label} is {mw}x{mh}, image is {shape[1]}x{shape[0]}{note}; a mask must have its "
                         "image's size")
    if not mask.any():
        raise InputError(f"mask {label} is empty (no white pixels)")
    return mask


for _ext, _desc in ((".png", "PNG"), (".jpg", "JPEG"), (".jpeg", "JPEG"), (".bmp", "BMP"), (".gif", "GIF"),
                    (".tif", "TIFF"), (".tiff", "TIFF"), (".webp", "WebP")):
    FORMATS.register(_ext, FileFormat(f"{_desc} image", readers={"image": load_image}))
