"""Before/after picture of the refinement and texture stages (issue 15): raw -> refined -> textured.

One row per photo (real photos from ``../shared/real-photos`` and bundled samples), through the shipped default
model exactly as ``lift3d reconstruct`` runs it: the photo, the raw marching-cubes mesh (no smoothing), the refined
mesh (default Taubin smoothing), and the textured mesh (``--texture image``: fitted camera, projection, mirror and
interpolated fill) seen from the fitted camera (it should look like the photo) and from two other sides (the
filled surface). Meshes are rendered shaded, the textured ones with their texture as albedo.

    python benchmarks/texture_panel.py --out docs/texture_panel.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lift3d.geometry.cameras import orbit_camera  # noqa: E402
from lift3d.io.images import load_image  # noqa: E402
from lift3d.reconstruct.pipeline import Reconstructor  # noqa: E402
from lift3d.reconstruct.texturing import texture_mesh  # noqa: E402
from lift3d.render import render_mesh  # noqa: E402
from model_gallery import SAMPLES, TILE, save_with_header, tile  # noqa: E402
from photo_panel import REAL_PHOTOS  # noqa: E402

DEFAULT = [REAL_PHOTOS / "chair.png", REAL_PHOTOS / "teapot.png", REAL_PHOTOS / "iso_house.png",
           SAMPLES / "car.jpg", SAMPLES / "chair_view0.png"]
COLUMNS = ["photo", "raw (no smoothing)", "refined", "textured, photo's view", "other side", "top-back"]


def view(mesh, cam) -> np.ndarray:
    """Shaded render ``(TILE, TILE, 3)`` of ``mesh`` from ``cam``, on white."""
    return render_mesh(mesh, cam, lighting="shaded", background=(1.0, 1.0, 1.0)).rgba[..., :3]


def fitted_view(mesh, fit) -> np.ndarray:
    """``mesh`` from the fitted camera, re-aimed at a ``TILE`` square around the object (same viewpoint)."""
    return view(mesh, orbit_camera(fit.azimuth, fit.elevation, 2.4, TILE, TILE))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("images", nargs="*", type=Path, default=[p for p in DEFAULT if p.is_file()])
    ap.add_argument("--out", default="docs/texture_panel.png")
    args = ap.parse_args()
    model = Reconstructor(threads=2)
    rows = []
    for path in args.images:
        rgba = load_image(path)
        raw = model.reconstruct([rgba], smooth_iterations=0)
        rec = model.reconstruct([rgba])
        tex = texture_mesh(rec.mesh, [rgba], rec.masks, "image", texture_size=1024)
        fit = tex.fits[0]
        side = orbit_camera(fit.azimuth + 150.0, 15.0, 2.4, TILE, TILE)
        back = orbit_camera(fit.azimuth + 210.0, 45.0, 2.4, TILE, TILE)
        cells = [tile(rgba), fitted_view(raw.mesh, fit), fitted_view(rec.mesh, fit), fitted_view(tex.mesh, fit),
                 view(tex.mesh, side), view(tex.mesh, back)]
        rows.append(np.concatenate(cells, axis=1))
        print(f"{path.name}: {tex.summary()}")
    save_with_header(np.concatenate(rows, axis=0), [(4 + i * TILE, c) for i, c in enumerate(COLUMNS)], args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
