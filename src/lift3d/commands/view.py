"""``lift3d view`` (an Open3D window) and ``lift3d render`` (headless turntables: .gif, .mp4, .png)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import typer

from lift3d.errors import InputError

LIGHTING_HELP = "shaded (Lambert + ambient, light from the camera) or unlit (the surface colours exactly)."


def register(app: typer.Typer) -> None:
    app.command("view")(view)
    app.command("render")(render)


def has_display() -> bool:
    """True where a window can be opened: macOS and Windows, or ``$DISPLAY`` / ``$WAYLAND_DISPLAY`` set."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _check_input(file: Path) -> str:
    """The input's kind (``mesh`` | ``points`` | ``voxels``) from its name, before it is read."""
    from lift3d.io import kind_of

    if not file.is_file():
        raise InputError(f"file not found: {file}")
    kind = kind_of(file)
    if kind == "image":
        raise InputError(f"{file} is an image, not a 3D model; `lift3d reconstruct` makes one from images")
    return kind


def view(file: Path = typer.Argument(..., help="A mesh (.glb .gltf .obj .ply .stl .off), point cloud (.ply .pcd "
                                               ".xyz) or voxel grid (.binvox .npz).")) -> None:
    """Open FILE in an Open3D window (needs a display; headless: `lift3d render FILE --turntable 24 -o spin.gif`)."""
    _check_input(file)
    hint = f"use `lift3d render {file} --turntable 24 -o spin.gif`"
    if not has_display():
        raise InputError(f"no display: {hint}")
    import open3d as o3d

    from lift3d.interop import to_open3d
    from lift3d.io import read_any

    _, obj = read_any(file)
    geom = to_open3d(obj)
    vis = o3d.visualization.Visualizer()
    if not vis.create_window(window_name=f"lift3d: {file.name}", width=1024, height=768):
        raise InputError(f"could not open a window on this display: {hint}")
    try:
        vis.add_geometry(geom)
        vis.get_render_option().mesh_show_back_face = True
        vis.run()
    finally:
        vis.destroy_window()


def render(
    file: Path = typer.Argument(..., help="A mesh (.glb .gltf .obj .ply .stl .off; textures and colours are shown), "
                                          "point cloud (.ply .pcd .xyz; drawn as small spheres) or voxel grid "
                                          "(.binvox .npz; drawn as cubes)."),
    output: Path = typer.Option(..., "-o", "--output", help="Output: .gif (looping), .mp4 (H.264) or .png (all "
                                                            "views on one contact sheet)."),
    turntable: int = typer.Option(24, "--turntable", help="Number of views around the vertical (+Y) axis, 1..360."),
    size: int = typer.Option(256, "--size", help="Side of each square view in pixels, 16..2048."),
    elevation: float = typer.Option(20.0, "--elevation", help="Camera elevation in degrees, -90..90."),
    lighting: str = typer.Option("shaded", "--lighting", help=LIGHTING_HELP),
    fps: float = typer.Option(12.0, "--fps", help="Frames per second of a .gif or .mp4, (0, 60]."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary line."),
) -> None:
    """Render a headless turntable of FILE (shaded or unlit, with its textures / colours) as .gif, .mp4 or .png."""
    from lift3d.io.paths import check_outputs
    from lift3d.limits import check_number
    from lift3d.render.mesh import check_lighting
    from lift3d.render.turntable import check_turntable_output

    check_number(turntable, "--turntable", 1, 360)
    check_number(size, "--size", 16, 2048)
    check_number(elevation, "--elevation", -90, 90)
    check_number(fps, "--fps", 0, 60, lo_open=True)
    check_lighting(lighting)
    check_turntable_output(output, turntable, size)
    check_outputs([output], [file])
    _check_input(file)

    from lift3d.io import read_any
    from lift3d.render import as_render_mesh, iter_turntable_frames, write_frames

    start = time.perf_counter()
    kind, obj = read_any(file)
    mesh = as_render_mesh(kind, obj, str(file))
    write_frames(iter_turntable_frames(mesh, turntable, size, elevation, lighting, progress=not quiet), output, fps)
    if not quiet:
        typer.echo(f"wrote {output}: {turntable} view(s) of {size}x{size} px, {lighting}, "
                   f"{time.perf_counter() - start:.1f} s")
