"""Turntable preview PNG of a reconstructed mesh (headless, Open3D ray casting)."""

from __future__ import annotations

import os

import numpy as np
import trimesh


def write_turntable(mesh: trimesh.Trimesh, path: str | os.PathLike, n_views: int = 6, size: int = 192,
                    color: tuple | None = None) -> None:
    """Render ``n_views`` views around +Y and write them side by side as one PNG (atomically)."""
    from PIL import Image

    from lift3d.data.render import render_turntable
    from lift3d.io.atomic import atomic_path

    rgb = None if color is None else np.asarray(color[:3], np.float32) / 255.0
    strip = render_turntable(mesh, n_views=n_views, size=size, color=rgb)
    with atomic_path(path) as tmp:
        Image.fromarray(strip).save(tmp, format="PNG")
