"""The README's picture of the shipped models: each bundled sample image beside what each model makes of it.

One row per sample (input image, then three turntable views of each model's mesh), written as one PNG.

    python benchmarks/model_gallery.py --out docs/models.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from lift3d.data.render import render_turntable
from lift3d.io.atomic import atomic_path
from lift3d.io.images import load_image
from lift3d.reconstruct.pipeline import SHIPPED, WEIGHTS_DIR, Reconstructor

SAMPLES = Path(__file__).resolve().parent.parent / "src" / "lift3d" / "samples"
TILE = 128


def tile(rgba: np.ndarray) -> np.ndarray:
    """An input image ``(H, W, 4)`` composited on white and fitted into a ``TILE`` square -> ``(TILE, TILE, 3)``."""
    img = Image.fromarray(rgba).convert("RGBA")
    img.thumbnail((TILE, TILE))
    canvas = Image.new("RGBA", (TILE, TILE), (255, 255, 255, 255))
    canvas.alpha_composite(img, ((TILE - img.width) // 2, (TILE - img.height) // 2))
    return np.asarray(canvas.convert("RGB"))


def save_with_header(grid: np.ndarray, labels: list[tuple[int, str]], out: str, height: int = 24) -> None:
    """Write RGB ``grid (H, W, 3)`` as a PNG (atomically) under a white strip of ``height`` px with ``labels``
    (x position, text)."""
    head = Image.new("RGB", (grid.shape[1], height), (255, 255, 255))
    draw = ImageDraw.Draw(head)
    for x, text in labels:
        draw.text((x, (height - 12) // 2), text, fill=(0, 0, 0))
    with atomic_path(out) as tmp:
        Image.fromarray(np.concatenate([np.asarray(head), grid], axis=0)).save(tmp, format="PNG")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/models.png")
    ap.add_argument("--samples", default="chair_view0.png,car.jpg,lamp.png,airplane.png")
    args = ap.parse_args()
    torch.set_num_threads(2)
    names = [n for n in SHIPPED if (WEIGHTS_DIR / SHIPPED[n]).is_file()]
    models = {n: Reconstructor(WEIGHTS_DIR / SHIPPED[n]) for n in names}
    rows = []
    for sample in args.samples.split(","):
        rgba = load_image(SAMPLES / sample)
        cells = [tile(rgba)]
        for rec in models.values():
            mesh = rec.reconstruct([rgba]).mesh
            strip = (render_turntable(mesh, n_views=3, size=TILE) if mesh is not None
                     else np.full((TILE, 3 * TILE, 3), 255, np.uint8))
            cells.append(strip)
        rows.append(np.concatenate(cells, axis=1))
    grid = np.concatenate(rows, axis=0)
    save_with_header(grid, [(8, "input")] + [(TILE + i * 3 * TILE + 8, f"--model {n}") for i, n in enumerate(names)],
                     args.out)
    print(f"wrote {args.out} ({', '.join(names)})")


if __name__ == "__main__":
    main()
