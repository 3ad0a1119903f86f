"""Render the bundled demo images from held-out TEST shapes of a lift3d dataset (never seen in training).

    python scripts/make_samples.py data/default src/lift3d/samples
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

from lift3d.data.dataset import ShapeDataset
from lift3d.data.render import random_cameras, render_views


def main(root: str, out: str) -> None:
    ds = ShapeDataset(root, "test", targets=())
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2024)
    picks = {s["category"]: i for i, s in enumerate(ds.shapes)}  # last test shape of each category
    for cat, n_views, background in (("chair", 4, "transparent"), ("airplane", 1, "transparent"),
                                     ("car", 1, (0.92, 0.92, 0.9)), ("lamp", 1, "transparent")):
        i = picks[cat]
        mesh = trimesh.load(ds.shape_dir(i) / "mesh.ply", force="mesh")
        cams = random_cameras(rng, n_views, 256, elevation=(10, 30))
        views = render_views(mesh, cams, rng, part_ids=np.zeros(len(mesh.faces), np.int64),
                             colors=rng.uniform(0.3, 0.9, (1, 3)), background=background)
        for k, v in enumerate(views):
            name = f"{cat}_view{k}.png" if n_views > 1 else f"{cat}.png"
            if background == "transparent":
                Image.fromarray(v.rgba, "RGBA").save(out_dir / name)
            else:  # an opaque photo-like JPEG: the foreground must be found by colour keying
                Image.fromarray(v.rgba[..., :3]).save(out_dir / name.replace(".png", ".jpg"), quality=92)
        print(cat, ds.shapes[i]["id"])


if __name__ == "__main__":
    main(*sys.argv[1:3])
