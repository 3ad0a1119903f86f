"""Image and mask cases: ``lift3d reconstruct IMAGE [--mask M]`` (shipped voxel model) and ``lift3d info IMAGE``."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .cases import Case, Shared, encode, mask_png, object_on_white, object_png, object_rgba, out, write

Content = Callable[[], bytes]


def _png_header(width: int, height: int, bit_depth: int = 8, colour: int = 6) -> bytes:
    """A PNG signature + IHDR chunk (valid CRC) claiming ``width x height``, and no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def _huge_png() -> bytes:
    """IHDR says 100000 x 100000 (10^10 pixels), followed by a tiny IDAT and IEND."""
    idat = zlib.compress(b"\x00" * 64)
    body = b"IDAT" + idat
    end = b"IEND"
    return (_png_header(100_000, 100_000) + struct.pack(">I", len(idat)) + body + struct.pack(">I", zlib.crc32(body))
            + struct.pack(">I", 0) + end + struct.pack(">I", zlib.crc32(end)))


def _bad_crc_png() -> bytes:
    data = bytearray(object_png())
    data[20] ^= 0xFF  # a byte of the IHDR data: its CRC no longer matches
    return bytes(data)


def _huge_bmp() -> bytes:
    """A BMP header claiming 50000 x 50000 pixels with no pixel data."""
    info = struct.pack("<IiiHHIIiiII", 40, 50_000, 50_000, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info), 0, 0, 14 + len(info)) + info


def _huge_jpeg() -> bytes:
    """A JPEG whose SOF0 marker claims 65500 x 65500 pixels."""
    data = bytearray(encode(object_on_white(), "JPEG"))
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 65500, 65500)
    return bytes(data)


def _half(make: Content) -> Content:
    return lambda: make()[: len(make()) // 2]


def _rgb(fmt: str, **kw) -> Content:
    return lambda: encode(object_on_white(), fmt, **kw)


def _mode(mode: str, fmt: str = "PNG", transparent: bool = False) -> Content:
    def make() -> bytes:
        from PIL import Image

        img = Image.fromarray(object_on_white()).convert(mode)
        kw = {"transparency": 0} if transparent else {}
        return encode(img, fmt, **kw)
    return make


def _grey16() -> bytes:
    from PIL import Image

    grey = object_on_white().mean(-1).astype(np.uint16) * 257
    return encode(Image.fromarray(grey))


def _palette_alpha() -> bytes:
    from PIL import Image

    return encode(Image.fromarray(object_rgba()).convert("P", palette=Image.ADAPTIVE), transparency=0)


def _animated_gif() -> bytes:
    from PIL import Image

    a, b = Image.fromarray(object_on_white()), Image.fromarray(np.full((48, 48, 3), 255, np.uint8))
    return encode(a, "GIF", save_all=True, append_images=[b], duration=100, loop=0)


def _const(value: tuple[int, ...], size: int = 48) -> Content:
    return lambda: encode(np.full((size, size, len(value)), value, np.uint8).squeeze())


# name -> (file name, content, message regex): each is refused by `reconstruct` (and `info`, for image suffixes)
BAD: dict[str, tuple[str, Content, str]] = {
    "zero_byte_png": ("zero.png", lambda: b"", "zero.png"),
    "zero_byte_jpg": ("zero.jpg", lambda: b"", "zero.jpg"),
    "truncated_png": ("truncated.png", _half(object_png), "truncated.png"),
    "truncated_jpeg": ("truncated.jpg", _half(_rgb("JPEG")), "truncated.jpg"),
    "truncated_gif": ("truncated.gif", _half(_rgb("GIF")), "truncated.gif"),
    "truncated_bmp": ("truncated.bmp", _half(_rgb("BMP")), "truncated.bmp"),
    "truncated_tiff": ("truncated.tif", _half(_rgb("TIFF")), "truncated.tif"),
    "truncated_webp": ("truncated.webp", _half(_rgb("WEBP")), "truncated.webp"),
    "png_signature_only": ("signature.png", lambda: b"\x89PNG\r\n\x1a\n", "signature.png"),
    "png_header_no_data": ("nodata.png", lambda: _png_header(48, 48), "nodata.png"),
    "png_bad_crc": ("badcrc.png", _bad_crc_png, "badcrc.png"),
    "png_zero_width": ("zerowidth.png", lambda: _png_header(0, 48), "zerowidth.png"),
    "png_huge_dimensions": ("huge.png", _huge_png, "huge.png.*(large|limit)"),
    "bmp_huge_dimensions": ("huge.bmp", _huge_bmp, "huge.bmp"),
    "jpeg_huge_dimensions": ("huge.jpg", _huge_jpeg, "huge.jpg"),
    "text_named_png": ("text.png", lambda: b"this is not an image\n", "text.png"),
    "html_named_jpg": ("page.jpg", lambda: b"<html><body>404</body></html>", "page.jpg"),
    "binary_garbage_png": ("garbage.png", lambda: bytes(range(256)) * 8, "garbage.png"),
    "obj_named_png": ("mesh.png", lambda: b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "mesh.png"),
    "all_transparent_rgba": ("clear.png", _const((0, 0, 0, 0)), "foreground|object"),
    "plain_white": ("white.png", _const((255, 255, 255)), "foreground|object"),
    "plain_black": ("black.png", _const((0, 0, 0)), "foreground|object"),
    "one_pixel": ("one.png", _const((200, 30, 30), size=1), "foreground|object|small"),
    "noise_no_plain_background": ("noise.png", lambda: encode(np.random.default_rng(0).integers(
        0, 256, (48, 48, 3), dtype=np.uint8)), "background|foreground"),
}

# name -> (file name, content): odd but valid images; `reconstruct` works (exit 0)
GOOD: dict[str, tuple[str, Content]] = {
    "rgba_png": ("rgba.png", object_png),
    "rgb_on_white_png": ("white_bg.png", _rgb("PNG")),
    "grey16_png": ("grey16.png", _grey16),
    "palette_png": ("palette.png", _mode("P")),
    "palette_transparency_png": ("palette_alpha.png", _palette_alpha),
    "greyscale_alpha_png": ("la.png", _mode("LA")),
    "bilevel_png": ("bilevel.png", _mode("1")),
    "cmyk_jpeg": ("cmyk.jpg", _mode("CMYK", "JPEG")),
    "greyscale_jpeg": ("grey.jpg", _mode("L", "JPEG")),
    "progressive_jpeg": ("progressive.jpg", _rgb("JPEG", progressive=True)),
    "animated_gif": ("animated.gif", _animated_gif),
    "bmp": ("image.bmp", _rgb("BMP")),
    "tiff": ("image.tif", _rgb("TIFF")),
    "webp": ("image.webp", _rgb("WEBP")),
    "png_named_jpg": ("png_inside.jpg", object_png),
    "jpeg_named_png": ("jpeg_inside.png", _rgb("JPEG")),
    "png_without_extension": ("image", object_png),
    "upper_case_extension": ("IMAGE.PNG", object_png),
}


def _reconstruct(name: str, content: Content, extra: tuple[str, ...] = ()) -> Callable[[Path, Shared], list[str]]:
    return lambda d, s: ["reconstruct", str(write(d, name, content())), "-o", out(d, "model.glb"), "-q", *extra]


def _info(name: str, content: Content) -> Callable[[Path, Shared], list[str]]:
    return lambda d, s: ["info", str(write(d, name, content()))]


def _missing(d: Path, s: Shared) -> list[str]:
    return ["reconstruct", str(d / "in" / "missing.png"), "-o", out(d, "model.glb"), "-q"]


def _folder(d: Path, s: Shared) -> list[str]:
    (d / "in" / "folder.png").mkdir(parents=True)
    return ["reconstruct", str(d / "in" / "folder.png"), "-o", out(d, "model.glb"), "-q"]


def _image_cases() -> list[Case]:
    from lift3d.io import extensions

    cases = [Case(f"image/{k}", "image", _reconstruct(f, c), message=m) for k, (f, c, m) in BAD.items()]
    cases += [Case(f"image/info_{k}", "image", _info(f, c), message=m) for k, (f, c, m) in BAD.items()
              if Path(f).suffix in extensions("image") and m == f]
    cases += [Case(f"image/{k}", "image", _reconstruct(f, c), code=0, creates="out/model.glb")
              for k, (f, c) in GOOD.items()]
    cases += [Case(f"image/info_{k}", "image", _info(f, c), code=0) for k, (f, c) in GOOD.items()
              if Path(f).suffix.lower() in extensions("image")]
    cases += [Case("image/missing_file", "image", _missing, message="missing.png"),
              Case("image/folder_named_png", "image", _folder, message="folder.png")]
    return cases


# ------------------------------------------------------------------------------------------------------- masks
def _grey_mask(value: int) -> Content:
    return _const((value,))  # a single-channel (L) mask of one grey level


def _decode(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)))


def _gradient_mask() -> bytes:
    """Non-binary: the object's mask blurred into a ramp of grey levels."""
    from PIL import Image, ImageFilter

    return encode(Image.open(io.BytesIO(mask_png())).filter(ImageFilter.GaussianBlur(3)))


def _mask_mode(mode: str) -> Content:
    def make() -> bytes:
        from PIL import Image

        return encode(Image.open(io.BytesIO(mask_png())).convert(mode))
    return make


def _mask16() -> bytes:
    from PIL import Image

    m = np.asarray(Image.open(io.BytesIO(mask_png()))).astype(np.uint16) * 257
    return encode(Image.fromarray(m))


def _white_transparent() -> bytes:
    return encode(np.dstack([np.full((48, 48, 3), 255, np.uint8), np.zeros((48, 48), np.uint8)]))


# name -> (file name, content, expected code, message regex)
MASKS: dict[str, tuple[str, Content, int, str | None]] = {
    "wrong_size": ("small_mask.png", lambda: mask_png((32, 32)), 2, "small_mask.png"),
    "transposed_size": ("tall_mask.png", lambda: mask_png((48, 40)), 2, "tall_mask.png"),
    "one_pixel": ("pixel_mask.png", lambda: encode(np.full((1, 1), 255, np.uint8)), 2, "pixel_mask.png"),
    "all_black": ("black_mask.png", _grey_mask(0), 2, "black_mask.png"),
    "all_dark_grey": ("grey_mask.png", _grey_mask(100), 2, "grey_mask.png"),
    "white_but_transparent": ("clear_mask.png", _white_transparent, 2, "clear_mask.png"),
    "zero_byte": ("zero_mask.png", lambda: b"", 2, "zero_mask.png"),
    "truncated": ("cut_mask.png", _half(mask_png), 2, "cut_mask.png"),
    "text": ("text_mask.png", lambda: b"mask", 2, "text_mask.png"),
    "non_binary_gradient": ("soft_mask.png", _gradient_mask, 0, None),
    "non_binary_levels": ("levels_mask.png", lambda: encode(
        (np.asarray(_decode(mask_png())) // 255 * 200 + 30).astype(np.uint8)), 0, None),
    "sixteen_bit": ("mask16.png", _mask16, 0, None),
    "palette": ("palette_mask.png", _mask_mode("P"), 0, None),
    "rgb": ("rgb_mask.png", _mask_mode("RGB"), 0, None),
    "jpeg": ("mask.jpg", lambda: encode(_decode(mask_png()), "JPEG"), 0, None),
}


def _with_mask(name: str, content: Content) -> Callable[[Path, Shared], list[str]]:
    def build(d: Path, s: Shared) -> list[str]:
        img = write(d, "object.png", object_png())
        return ["reconstruct", str(img), "--mask", str(write(d, name, content())), "-o", out(d, "model.glb"), "-q"]
    return build


def _mask_count(d: Path, s: Shared) -> list[str]:
    a, b = write(d, "a.png", object_png()), write(d, "b.png", object_png())
    return ["reconstruct", str(a), str(b), "--views", "--mask", str(write(d, "only_mask.png", mask_png())),
            "-o", out(d, "model.glb"), "-q"]


def _missing_mask(d: Path, s: Shared) -> list[str]:
    return ["reconstruct", str(write(d, "object.png", object_png())), "--mask", str(d / "in" / "nomask.png"),
            "-o", out(d, "model.glb"), "-q"]


def _mask_cases() -> list[Case]:
    cases = [Case(f"mask/{k}", "mask", _with_mask(f, c), code=code, message=m,
                  creates="out/model.glb" if code == 0 else None) for k, (f, c, code, m) in MASKS.items()]
    return cases + [Case("mask/count_mismatch", "mask", _mask_count, message="mask"),
                    Case("mask/missing_file", "mask", _missing_mask, message="nomask.png")]


def cases() -> list[Case]:
    return _image_cases() + _mask_cases()
