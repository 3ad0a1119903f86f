"""Fuzz the image reader (``load_image`` / ``load_mask`` from bytes): every PIL format lift3d accepts."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import given

from lift3d.io.images import load_image, load_mask

from ._fuzz import fuzz_settings, inputs, isolated, must_succeed_or_refuse


def _seeds() -> list[bytes]:
    from PIL import Image

    yy, xx = np.mgrid[:24, :24]
    rgba = np.zeros((24, 24, 4), np.uint8)
    rgba[(xx - 12) ** 2 + (yy - 12) ** 2 < 64] = (200, 90, 30, 255)
    out = []
    for fmt, mode in (("PNG", "RGBA"), ("PNG", "P"), ("PNG", "I;16"), ("JPEG", "RGB"), ("JPEG", "CMYK"), ("GIF", "P"),
                      ("BMP", "RGB"), ("TIFF", "RGBA"), ("WEBP", "RGBA")):
        buf = io.BytesIO()
        Image.fromarray(rgba).convert(mode).save(buf, format=fmt)
        out.append(buf.getvalue())
    return out


SEEDS = _seeds()


def test_load_image_returns_rgba_or_refuses() -> None:
    @fuzz_settings(150)
    @given(inputs(*SEEDS))
    def run(data: bytes) -> None:
        img = must_succeed_or_refuse(lambda: load_image(data, name="fuzz.png"))
        if img is not None:
            assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 4 and min(img.shape[:2]) >= 1

    isolated(run)


def test_load_mask_returns_a_bool_mask_or_refuses() -> None:
    @fuzz_settings(50)
    @given(inputs(*SEEDS))
    def run(data: bytes) -> None:
        mask = must_succeed_or_refuse(lambda: load_mask(data, name="fuzz_mask.png"))
        if mask is not None:
            assert mask.dtype == bool and mask.ndim == 2 and mask.any()

    isolated(run)
