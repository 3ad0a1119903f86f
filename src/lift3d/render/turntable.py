"""Turntables: ``n`` renders orbiting the object about +Y, and their files (.png grid, .gif, .mp4), written atomically.

The object is framed by its bounding sphere (centre = the bounding box's centre, radius = the farthest vertex):
the camera looks at the centre from the distance at which that sphere just fits the field of view
(:func:`lift3d.data.render.fit_distance`), so any object, in any units, fills the frame at every angle.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import trimesh

from lift3d.errors import InputError
from lift3d.geometry.cameras import Camera, orbit_camera
from lift3d.io.atomic import atomic_path

FOV_DEG = 40.0
MARGIN = 1.05  # the bounding sphere fills 1/1.05 of the frame
TURNTABLE_EXTENSIONS = (".png", ".gif", ".mp4")
MP4_PACKAGE = "imageio-ffmpeg"
SHEET_SIDE = 16384  # the largest .png contact sheet side in pixels (24 views of 2048 px: 12288 x 8192)


def frame_sphere(vertices: np.ndarray) -> tuple[np.ndarray, float]:
    """Bounding sphere of points ``(N, 3)``: centre ``(3,)`` (the bounding box's centre) and radius (> 0)."""
    v = np.asarray(vertices, np.float64)
    centre = (v.min(axis=0) + v.max(axis=0)) / 2.0
    radius = float(np.linalg.norm(v - centre, axis=1).max())
    return centre, radius if radius > 0 else 1.0


def turntable_cameras(vertices: np.ndarray, n: int, size: int, elevation: float = 20.0,
                      fov_deg: float = FOV_DEG) -> list[Camera]:
    """``n`` square ``size`` cameras evenly spaced in azimuth (0 = looking from +Z) about +Y through the centre of
    ``vertices (N, 3)``, at ``elevation`` degrees, framing their bounding sphere."""
    from lift3d.data.render import fit_distance

    centre, radius = frame_sphere(vertices)
    dist = fit_distance(fov_deg, radius * MARGIN)
    return [orbit_camera(float(az), elevation, dist, size, size, fov_deg, target=centre)
            for az in np.linspace(0.0, 360.0, n, endpoint=False)]


def iter_turntable_frames(mesh: trimesh.Trimesh, n: int = 24, size: int = 256, elevation: float = 20.0,
                          lighting: str = "shaded", background=(1.0, 1.0, 1.0), ss: int | None = None,
                          color=None, fov_deg: float = FOV_DEG, progress: bool = False) -> Iterator[np.ndarray]:
    """Render ``n`` views orbiting ``mesh`` about +Y, one at a time -> RGB uint8 frames ``(size, size, 3)`` over
    ``background`` (see :func:`render_turntable_frames`). The scene is prepared, and the arguments checked, at the
    first frame."""
    from tqdm import tqdm

    from lift3d.geometry.voxels import raycasting_scene
    from lift3d.render.mesh import check_lighting, parse_background, render_mesh
    from lift3d.render.surface import Surface

    check_lighting(lighting)
    bg_rgb, _ = parse_background(background)
    scene, surface = raycasting_scene(mesh), Surface(mesh, color)
    cams = turntable_cameras(mesh.vertices, n, size, elevation, fov_deg)
    for cam in tqdm(cams, desc="render", unit="view", disable=not progress, leave=False):
        yield render_mesh(mesh, cam, lighting, bg_rgb, ss, scene=scene, surface=surface).rgba[..., :3]


def render_turntable_frames(mesh: trimesh.Trimesh, n: int = 24, size: int = 256, elevation: float = 20.0,
                            lighting: str = "shaded", background=(1.0, 1.0, 1.0), ss: int | None = None,
                            color=None, fov_deg: float = FOV_DEG, progress: bool = False) -> list[np.ndarray]:
    """Render ``n`` views orbiting ``mesh`` about +Y -> RGB uint8 frames ``(size, size, 3)`` over ``background``.

    ``lighting``, ``ss`` and ``color`` are :func:`~lift3d.render.mesh.render_mesh`'s; ``color=None`` shows the
    mesh's own texture or colours. ``progress`` shows a bar on stderr.
    """
    return list(iter_turntable_frames(mesh, n, size, elevation, lighting, background, ss, color, fov_deg, progress))


def grid_columns(n: int) -> int:
    """Columns of a contact sheet of ``n`` frames: one strip up to 8, else the divisor of ``n`` nearest above
    ``sqrt(n)`` (24 -> 6 x 4) when there is one below ``2 sqrt(n)``, else ``ceil(sqrt(n))``."""
    if n <= 8:
        return n
    root = math.sqrt(n)
    for c in range(math.ceil(root), int(2 * root) + 1):
        if n % c == 0:
            return c
    return math.ceil(root)


def contact_sheet(frames: Sequence[np.ndarray], columns: int | None = None, fill=255) -> np.ndarray:
    """Frames ``(h, w, C)`` tiled row by row -> ``(rows*h, columns*w, C)``; empty cells are ``fill``."""
    cols = columns or grid_columns(len(frames))
    rows = math.ceil(len(frames) / cols)
    h, w, c = frames[0].shape
    sheet = np.full((rows * h, cols * w, c), fill, frames[0].dtype)
    for k, f in enumerate(frames):
        r, q = divmod(k, cols)
        sheet[r * h:(r + 1) * h, q * w:(q + 1) * w] = f
    return sheet


def check_turntable_output(path: str | os.PathLike, n: int | None = None, size: int | None = None,
                           columns: int | None = None) -> str:
    """The output's extension (``.png`` / ``.gif`` / ``.mp4``), checked before any work: an unknown extension,
    ``.mp4`` without its encoder, or (given ``n`` views of ``size`` px) a ``.png`` sheet with a side over
    :data:`SHEET_SIDE` raises :class:`InputError`."""
    ext = Path(path).suffix.lower()
    if ext not in TURNTABLE_EXTENSIONS:
        raise InputError(f"unsupported turntable output {ext or '(none)'!r} for {path}; use one of "
                         f"{', '.join(TURNTABLE_EXTENSIONS)}")
    if ext == ".mp4":
        ffmpeg_exe()
    if ext == ".png" and n and size:
        cols = columns or grid_columns(n)
        width, height = cols * size, math.ceil(n / cols) * size
        if max(width, height) > SHEET_SIDE:
            raise InputError(f"a .png sheet of {n} views of {size} px would be {width} x {height} px (at most "
                             f"{SHEET_SIDE} a side); use fewer views, a smaller --size, or .gif / .mp4")
    return ext


def ffmpeg_exe() -> str:
    """The ffmpeg binary bundled by the ``imageio-ffmpeg`` package; :class:`InputError` naming it when missing."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise InputError(f"writing .mp4 needs the {MP4_PACKAGE} package, which bundles an ffmpeg encoder "
                         f"(pip install {MP4_PACKAGE}); or write .gif or .png") from exc


def write_frames(frames: Iterable[np.ndarray], path: str | os.PathLike, fps: float = 12.0,
                 columns: int | None = None) -> Path:
    """Write RGB uint8 frames ``(h, w, 3)`` by the extension of ``path`` (atomically; returns the path).

    ``.png``: one contact sheet (``columns`` per row, default :func:`grid_columns`); ``.gif``: an endless loop at
    ``fps``; ``.mp4``: H.264 (yuv420p, odd sizes padded by one pixel) at ``fps``. ``frames`` may be a generator
    (:func:`iter_turntable_frames`): .gif and .mp4 take them one at a time as they are rendered.
    """
    from PIL import Image

    ext = check_turntable_output(path)
    if not 0 < fps <= 120:
        raise InputError(f"fps must be in (0, 120], got {fps}")
    rgb = (np.ascontiguousarray(np.asarray(f)[..., :3], np.uint8) for f in frames)
    first = next(rgb, None)
    if first is None:
        raise InputError("no frames to write")
    with atomic_path(path) as tmp:
        if ext == ".png":
            Image.fromarray(contact_sheet([first, *rgb], columns)).save(tmp, format="PNG")
        elif ext == ".gif":
            Image.fromarray(first).save(tmp, format="GIF", save_all=True, append_images=map(Image.fromarray, rgb),
                                        loop=0, duration=max(20, round(1000.0 / fps)), disposal=2)
        else:
            _write_mp4(itertools.chain([first], rgb), tmp, fps, Path(path).name)
    return Path(path)


def _write_mp4(frames: Iterable[np.ndarray], path: Path, fps: float, name: str) -> None:
    """Stream frames ``(h, w, 3)`` into ffmpeg (libx264, yuv420p: odd sides padded by one edge pixel)."""
    import imageio_ffmpeg

    ffmpeg_exe()
    writer = None
    try:
        for f in frames:  # rendering errors pass through; ffmpeg's own become one InputError line
            h, w = f.shape[:2]
            try:
                if writer is None:
                    writer = imageio_ffmpeg.write_frames(str(path), (w + w % 2, h + h % 2), fps=fps, codec="libx264",
                                                         pix_fmt_out="yuv420p", macro_block_size=2,
                                                         ffmpeg_log_level="error")
                    writer.send(None)
                writer.send(np.ascontiguousarray(np.pad(f, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")).tobytes())
            except (OSError, RuntimeError) as exc:
                raise InputError(f"ffmpeg could not encode {name}: {exc}") from exc
    finally:
        if writer is not None:
            writer.close()
