"""Real photos through the shipped models: each image, what the model sees after automatic masking, and a small
turntable of each model's mesh.

One row per image: the original (thumbnail), the masked and cropped model input, then ``--views`` turntable views
per model. Everything goes through :class:`lift3d.reconstruct.pipeline.Reconstructor` exactly as the CLI does, with
automatic masks; an image that fails (no foreground found, say) gets a labelled empty row instead of a crash.

    python benchmarks/photo_panel.py --out docs/photo_panel.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lift3d.data.render import render_turntable  # noqa: E402
from lift3d.errors import Lift3DError  # noqa: E402
from lift3d.io.images import load_image  # noqa: E402
from lift3d.reconstruct.pipeline import Reconstructor, shipped_checkpoint  # noqa: E402
from model_gallery import SAMPLES, TILE, save_with_header, tile  # noqa: E402

REAL_PHOTOS = Path(__file__).resolve().parent.parent.parent / "shared" / "real-photos"
OWN = ("car.jpg", "lamp.png")
PHOTOS = Path(__file__).resolve().parent / "photos"  # product-photo-like renders (scripts/make_photos.py)
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
LABEL = 16  # height of the file-name strip above each row


def default_images() -> list[Path]:
    """Every image in ``../shared/real-photos``, the product-photo renders in ``benchmarks/photos`` and a few
    bundled samples."""
    def listed(folder: Path) -> list[Path]:
        return sorted(p for p in folder.glob("*") if p.suffix.lower() in IMAGE_EXTS) if folder.is_dir() else []

    return listed(REAL_PHOTOS) + listed(PHOTOS) + [SAMPLES / n for n in OWN]


def blank(width: int, text: str = "") -> np.ndarray:
    """A light grey ``(TILE, width, 3)`` cell with ``text`` (wrapped) on it: an output that could not be made."""
    img = Image.new("RGB", (width, TILE), (235, 235, 235))
    draw = ImageDraw.Draw(img)
    chars = max(8, width // 6 - 2)
    lines = [text[i:i + chars] for i in range(0, len(text), chars)][:8]
    for i, line in enumerate(lines):
        draw.text((6, 6 + 12 * i), line, fill=(150, 0, 0))
    return np.asarray(img)


def model_input(rec: Reconstructor, rgba: np.ndarray) -> np.ndarray:
    """The view the model is given (automatic mask, crop, white background) as a ``TILE`` square RGB tile."""
    view = rec.prepare([rgba])[0, 0]  # (3, S, S) in [0, 1]
    img = Image.fromarray((np.clip(view.transpose(1, 2, 0), 0, 1) * 255 + 0.5).astype(np.uint8))
    return np.asarray(img.resize((TILE, TILE), Image.Resampling.BILINEAR))


def row(path: Path, models: dict[str, Reconstructor], views: int) -> np.ndarray:
    """One labelled row: original, model input, ``views`` turntable views per model."""
    strip = views * TILE
    try:
        rgba = load_image(path)
    except Lift3DError as e:
        cells = [blank(2 * TILE + strip * len(models), f"cannot read: {e}")]
        rgba = None
    if rgba is not None:
        cells = [tile(rgba)]
        first = next(iter(models.values()))
        try:
            cells.append(model_input(first, rgba))
        except Lift3DError as e:
            cells.append(blank(TILE, f"mask: {e}"))
            cells += [blank(strip, "no input") for _ in models]
        else:
            for name, rec in models.items():
                try:
                    mesh = rec.reconstruct([rgba]).mesh
                    cells.append(render_turntable(mesh, n_views=views, size=TILE) if mesh is not None
                                 else blank(strip, f"{name}: empty reconstruction"))
                except Lift3DError as e:
                    cells.append(blank(strip, f"{name}: {e}"))
    body = np.concatenate(cells, axis=1)
    head = Image.new("RGB", (body.shape[1], LABEL), (245, 245, 245))
    ImageDraw.Draw(head).text((6, 2), path.name, fill=(0, 0, 0))
    return np.concatenate([np.asarray(head), body], axis=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", default=None,
                    help="comma-separated image paths (default: every image in ../shared/real-photos + "
                         f"{', '.join(OWN)} from the bundled samples)")
    ap.add_argument("--models", default="voxel,occupancy,points", help="shipped models, comma-separated")
    ap.add_argument("--out", default="docs/photo_panel.png")
    ap.add_argument("--views", type=int, default=4, help="turntable views per model")
    args = ap.parse_args()
    torch.set_num_threads(2)
    images = [Path(p) for p in args.images.split(",")] if args.images else default_images()
    models = {n: Reconstructor(shipped_checkpoint(n)) for n in args.models.split(",")}
    rows = []
    for p in images:
        rows.append(row(p, models, args.views))
        print(f"  {p.name}", flush=True)
    grid = np.concatenate(rows, axis=0)
    labels = [(8, "original"), (TILE + 8, "model input")]
    labels += [(2 * TILE + i * args.views * TILE + 8, f"--model {n}") for i, n in enumerate(models)]
    save_with_header(grid, labels, args.out)
    print(f"wrote {args.out} ({len(images)} images x {', '.join(models)})")


if __name__ == "__main__":
    main()
