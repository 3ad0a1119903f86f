"""Turntable preview PNG of a reconstructed mesh (headless, Open3D ray casting via :mod:`lift3d.render`)."""

from __future__ import annotations

import os

import numpy as np
import trimesh


def write_turntable(mesh: trimesh.Trimesh, path: str | os.PathLike, n_views: int = 6, size: int = 192,
                    color: tuple | None = None) -> None:
    """Render ``n_views`` shaded views around +Y and write them side by side as one PNG ``(size, n_views*size)``
    (atomically). ``color`` (RGB 0..255) paints the whole mesh; None shows its own texture or colours."""
    from lift3d.render.turntable import render_turntable_frames, write_frames

    rgb = None if color is None else np.asarray(color[:3], np.float32) / 255.0
    frames = render_turntable_frames(mesh, n_views, size, color=rgb)
    write_frames(frames, path, columns=n_views)
