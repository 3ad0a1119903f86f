"""Image reading (any PIL format) from a path or from bytes (a server receives uploads as bytes).

Images are read-only in the extension table: lift3d reads them as input and never writes them as a model file
(previews and contact sheets are written by their own code). The table's extensions name the usual image files;
:func:`load_image` itself goes by the bytes, so any format PIL reads works whatever the file is called.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from lift3d.errors import InputError
from lift3d.io.formats import FORMATS, FileFormat

MAX_PIXELS = 64_000_000  # refuse larger images (a 20000 x 20000 image is a decompression bomb here)
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


def load_image(src: ImageSource, name: str | None = None) -> np.ndarray:
    """Read an image of any PIL format from a path or bytes -> RGBA uint8 ``(H, W, 4)``.

    ``name`` names the image in error messages (an upload's file name; default: the path, or ``<bytes>``).
    Raises :class:`InputError` for a missing file, non-image bytes, a truncated file, an empty image or
    one larger than ``MAX_PIXELS``.
    """
    p = _label(src, name)
    if _is_bytes(src):
        fp: io.BytesIO | Path = io.BytesIO(bytes(src))  # type: ignore[arg-type]
    else:
        fp = Path(src)  # type: ignore[arg-type]
        if not fp.is_file():
            raise InputError(f"image not found: {p}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(fp) as img:
                w, h = img.size
                if w == 0 or h == 0:
                    raise InputError(f"image {p} is empty ({w}x{h})")
                if w * h > MAX_PIXELS:
                    raise InputError(f"image {p} is too large ({w}x{h}); the limit is {MAX_PIXELS} pixels")
                img.load()
                return to_rgba(img)
    except InputError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(f"{p} is not a readable image ({exc.__class__.__name__})") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"image {p} is truncated or corrupt: {exc}") from exc


def load_mask(src: ImageSource, shape: tuple[int, int] | None = None, name: str | None = None) -> np.ndarray:
    """A mask image (white = object) from a path or bytes -> bool ``(H, W)``; checks it matches ``shape`` (H, W)
    if given. ``name`` as in :func:`load_image`."""
    label = _label(src, name)
    rgba = load_image(src, label)
    grey = rgba[..., :3].mean(axis=-1) * (rgba[..., 3] / 255.0)
    mask = grey > 127
    if shape is not None and mask.shape != tuple(shape):
        raise InputError(f"mask {label} is {mask.shape[1]}x{mask.shape[0]}, image is {shape[1]}x{shape[0]}")
    if not mask.any():
        raise InputError(f"mask {label} is empty (no white pixels)")
    return mask


for _ext, _desc in ((".png", "PNG"), (".jpg", "JPEG"), (".jpeg", "JPEG"), (".bmp", "BMP"), (".gif", "GIF"),
                    (".tif", "TIFF"), (".tiff", "TIFF"), (".webp", "WebP")):
    FORMATS.register(_ext, FileFormat(f"{_desc} image", readers={"image": load_image}))
