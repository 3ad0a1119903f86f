"""Picture of every procedural family in each look -> docs/families.png.

One row per family: ``--per-family`` random members rendered in the photo-like ``random`` look (training data),
then one in the ``plain`` look and one in the held-out ``shift`` look, all from photo-like cameras.

    python benchmarks/family_gallery.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from lift3d.data.generate import CAMERAS, ELEVATION
from lift3d.data.render import random_cameras, render_views
from lift3d.data.shapes import CATEGORIES, make_shape

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model_gallery import save_with_header  # noqa: E402


def family_row(category: str, n: int, size: int) -> np.ndarray:
    """RGB uint8 ``(size, (n + 2) * size, 3)``: ``n`` random-look members, then plain and shift."""
    tiles = []
    for k, style in enumerate(["random"] * n + ["plain", "shift"]):
        rng = np.random.default_rng([k, CATEGORIES.index(category)])
        mesh = make_shape(category, 50_000 + k)
        cams = random_cameras(rng, 1, size, elevation=ELEVATION[style], **CAMERAS[style])
        tiles.append(render_views(mesh, cams, rng, appearance=style, background=(1.0, 1.0, 1.0))[0].rgba[..., :3])
    return np.concatenate(tiles, axis=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-family", type=int, default=5)
    ap.add_argument("--size", type=int, default=112)
    ap.add_argument("--out", default="docs/families.png")
    args = ap.parse_args()
    label = 90
    rows = []
    for cat in CATEGORIES:
        row = family_row(cat, args.per_family, args.size)
        strip = Image.new("RGB", (label, args.size), "white")
        ImageDraw.Draw(strip).text((4, args.size // 2 - 6), cat, fill="black")
        rows.append(np.concatenate([np.asarray(strip), row], axis=1))
    img = np.concatenate(rows, axis=0)
    save_with_header(img, [(label + 4, "random look (training)"),
                           (label + args.per_family * args.size + 4, "plain"),
                           (label + (args.per_family + 1) * args.size + 4, "shift (held out)")], args.out, height=16)
    print(f"wrote {args.out} ({img.shape[1]}x{img.shape[0] + 16})")


if __name__ == "__main__":
    main()
