import numpy as np
import pytest
from PIL import Image

from lift3d.data.preprocess import foreground_mask, prepare_image
from lift3d.errors import InputError
from lift3d.io.images import load_image, load_mask


def _rgba_square(h=60, w=80, bg=(30, 30, 30), alpha=False) -> np.ndarray:
    img = np.zeros((h, w, 4), np.uint8)
    img[..., :3] = bg
    img[..., 3] = 0 if alpha else 255
    img[10:40, 20:50, :3] = (200, 60, 60)
    img[10:40, 20:50, 3] = 255
    return img


def test_mask_from_alpha_and_from_plain_background():
    for alpha in (True, False):
        m = foreground_mask(_rgba_square(alpha=alpha))
        assert m.sum() == 30 * 30 and m[10:40, 20:50].all()


def test_busy_background_is_refused():
    img = np.random.default_rng(0).integers(0, 255, (50, 50, 4)).astype(np.uint8)
    img[..., 3] = 255
    with pytest.raises(InputError, match="mask"):
        foreground_mask(img)


def test_prepare_image_crops_and_centres():
    img, mask = prepare_image(_rgba_square(), size=40, margin=0.1)
    assert img.shape == (3, 40, 40) and mask.shape == (1, 40, 40)
    assert np.allclose(img[:, 0, 0], 1.0)  # white background
    assert np.allclose(img[:, 20, 20], [200 / 255, 60 / 255, 60 / 255], atol=0.02)
    rows = np.nonzero(mask[0].max(axis=1) > 0.5)[0]
    assert rows.min() >= 3 and rows.max() <= 36  # the square fills the frame minus the margin


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "I;16"])
def test_any_pil_mode_loads(tmp_path, mode):
    base = Image.fromarray(_rgba_square())
    if mode == "I;16":
        arr = (np.asarray(base.convert("L")).astype(np.uint16) * 257)
        img = Image.fromarray(arr)  # uint16 -> 16-bit greyscale
    else:
        img = base.convert(mode)
    img.save(tmp_path / "x.png")
    rgba = load_image(tmp_path / "x.png")
    assert rgba.shape == (60, 80, 4) and rgba.dtype == np.uint8
    assert foreground_mask(rgba).sum() > 800


def test_jpeg(tmp_path):
    Image.fromarray(_rgba_square()[..., :3]).save(tmp_path / "x.jpg", quality=95)
    assert abs(foreground_mask(load_image(tmp_path / "x.jpg")).sum() - 900) < 60


@pytest.mark.parametrize("case", ["missing", "bytes", "truncated", "empty", "huge"])
def test_bad_images(tmp_path, case):
    p = tmp_path / "bad.png"
    if case == "bytes":
        p.write_bytes(b"this is not an image")
    elif case == "truncated":
        Image.fromarray(_rgba_square()).save(p)
        p.write_bytes(p.read_bytes()[:200])
    elif case == "empty":
        p.write_bytes(b"")
    elif case == "huge":
        Image.new("1", (20000, 20000)).save(p)  # 1-bit: tiny file, 400 megapixels
    with pytest.raises(InputError):
        load_image(p)


def test_image_and_mask_from_bytes(tmp_path):
    """A server gets uploads as bytes: same pixels as from the file; messages name the upload."""
    Image.fromarray(_rgba_square(alpha=True)).save(tmp_path / "x.png")
    data = (tmp_path / "x.png").read_bytes()
    assert np.array_equal(load_image(data), load_image(tmp_path / "x.png"))
    assert np.array_equal(load_image(bytearray(data)), load_image(memoryview(data)))
    with pytest.raises(InputError, match="upload.png is not a readable image"):
        load_image(b"not an image", name="upload.png")
    with pytest.raises(InputError, match="<bytes> is truncated or corrupt"):
        load_image(data[:200])
    white = np.zeros((60, 80), np.uint8)
    white[10:40, 20:50] = 255
    Image.fromarray(white).save(tmp_path / "m.png")
    mask = load_mask((tmp_path / "m.png").read_bytes(), (60, 80))
    assert np.array_equal(mask, load_mask(tmp_path / "m.png")) and mask.sum() == 30 * 30
    with pytest.raises(InputError, match="mask m.png is 80x60, image is 40x30"):
        load_mask((tmp_path / "m.png").read_bytes(), (30, 40), name="m.png")
    with pytest.raises(InputError, match="mask <bytes> is empty"):
        load_mask(data)  # a red square: no white pixels
