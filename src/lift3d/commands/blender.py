"""``lift3d blender``: a 3D model -> a Blender scene (.blend) with the texture wired to a Principled BSDF material, or
an FBX file for game engines (texture embedded), and optionally a Cycles preview render; or, with ``--script-only``,
the Blender script for a user's own Blender."""

from __future__ import annotations

import json
import shlex
from collections.abc import Collection
from pathlib import Path

import typer

from lift3d.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("blender")(blender)


def blender(
    model: Path = typer.Argument(None, help="The model: .glb .gltf (textures and materials kept), .obj (+ .mtl), "
                                            ".ply or .stl."),
    output: Path = typer.Option(None, "-o", "--output", help="The file to write: a Blender scene (.blend) or FBX "
                                "for game engines (.fbx: +Y up, metres, texture embedded)."),
    render: Path = typer.Option(None, "--render", help="Also render a preview with Cycles on the CPU (.png)."),
    size: int = typer.Option(512, "--size", help="Preview width and height in pixels (16-4096)."),
    samples: int = typer.Option(32, "--samples", help="Cycles samples per pixel (1-4096)."),
    script_only: Path = typer.Option(None, "--script-only", help="Only write the Blender script (.py) for your own "
                                     "Blender; needs no Blender here. With MODEL and -o its header shows the "
                                     "command to run."),
    z_up: bool = typer.Option(False, "--z-up", help="A .ply or .stl model is +Z up already (default: +Y up, "
                              "lift3d's frame; glTF and OBJ are always read as +Y up)."),
    timeout: float = typer.Option(600.0, "--timeout", help="Seconds Blender may take before it is stopped."),
    as_json: bool = typer.Option(False, "--json", help="Print the scene summary as one JSON line."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
) -> None:
    """Hand a model to Blender: import it, shade smooth, connect its texture to a Principled BSDF material, add a
    camera and lights, save a .blend or export an FBX (and render a preview PNG with Cycles).

    Blender is found as $LIFT3D_BLENDER, the bpy module of this Python (lift3d's "blender" extra) or `blender`
    on PATH (apt install blender python3-numpy); see docs/blender.md and docs/formats_ar.md. All or nothing: the
    .blend (or .fbx) and the PNG are written only when both are complete.
    """
    from lift3d.blender.runner import SCENE_FORMATS
    from lift3d.io.paths import check_outputs
    from lift3d.limits import check_number

    if script_only is not None:
        _write_script(script_only, model, output, render, size, samples, z_up)
        if not quiet:
            typer.echo(f"wrote {script_only}")
        return
    _check_model(model)
    if output is None:
        raise InputError("give the file to write with -o scene.blend or -o model.fbx (or --script-only script.py)")
    _check_ext(output, SCENE_FORMATS, "-o")
    if render is not None:
        _check_ext(render, ".png", "--render")
    check_number(size, "--size", 16, 4096)
    check_number(samples, "--samples", 1, 4096)
    check_number(timeout, "--timeout", 0, 86400, lo_open=True)
    check_outputs([output] + ([render] if render is not None else []), [model])
    summary = _run(model, output, render, size, samples, timeout, "Z" if z_up else "Y")
    if as_json:
        typer.echo(json.dumps(summary))
    elif not quiet:
        typer.echo(_describe(summary, output, render))


def _check_ext(path: Path, ext: str | Collection[str], option: str) -> None:
    allowed = [ext] if isinstance(ext, str) else list(ext)
    if path.suffix.lower() not in allowed:
        raise InputError(f"{option} {path}: the file must end in {' or '.join(allowed)}")


def _check_model(model: Path | None) -> None:
    """Refuse a missing model, an unknown extension, a GLB without the glTF magic and bad mesh headers, in one line
    and before Blender starts."""
    from lift3d.blender.runner import MODEL_FORMATS
    from lift3d.io.checks import check_header

    if model is None:
        raise InputError("give the model to hand to Blender: lift3d blender MODEL.glb -o scene.blend")
    if not model.is_file():
        raise InputError(f"file not found: {model}")
    ext = model.suffix.lower()
    if ext not in MODEL_FORMATS:
        raise InputError(f"{model}: Blender hand-off takes {', '.join(MODEL_FORMATS)} files, not {ext or 'this'}")
    try:
        with open(model, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise InputError(f"cannot read {model}: {exc.strerror or exc}") from exc
    if ext == ".glb" and head != b"glTF":
        raise InputError(f"{model} is not a GLB file (it does not start with 'glTF')")
    check_header(model)


def _run(model: Path, output: Path, render: Path | None, size: int, samples: int, timeout: float, up: str) -> dict:
    from lift3d.blender.runner import find_blender, run_scene
    from lift3d.io.atomic import all_or_nothing

    backend = find_blender()  # before any temporary file: "not found" leaves nothing behind
    with all_or_nothing() as stage:
        blend_tmp = stage(output)
        png_tmp = stage(render) if render is not None else None
        summary = run_scene(model, blend_tmp, png_tmp, size=size, samples=samples, timeout=timeout, up=up,
                            backend=backend)
    summary["blend" if output.suffix.lower() == ".blend" else "fbx"] = str(output)
    summary["render"] = None if render is None else str(render)
    return summary


def _describe(summary: dict, output: Path, render: Path | None) -> str:
    mats = summary["materials"]
    sources = ", ".join(f"{m['name']}: base colour <- "
                        + (f"image {m['image']} {m['image_size'][0]}x{m['image_size'][1]}" if m["base_color"] == "image"
                           else "vertex colours" if m["base_color"] == "color_attribute" else "a plain colour")
                        for m in mats)
    lines = [f"wrote {output} (Blender {summary['blender']}, {summary['objects']} mesh object(s), "
             f"{summary['faces']} faces; {sources})"]
    if render is not None:
        lines.append(f"wrote {render} ({summary['size']}x{summary['size']}, {summary['samples']} samples, "
                     f"{summary['seconds']['render']:.1f} s)")
    return "\n".join(lines)


def _write_script(path: Path, model: Path | None, output: Path | None, render: Path | None, size: int,
                  samples: int, z_up: bool) -> None:
    from lift3d import __version__
    from lift3d.blender.runner import SCENE_FORMATS, script_text
    from lift3d.io.atomic import write_text_atomic
    from lift3d.io.paths import check_outputs

    _check_ext(path, ".py", "--script-only")
    check_outputs([path], [model])
    flag = SCENE_FORMATS.get(output.suffix.lower(), "--blend") if output else "--blend"
    args = [str(model) if model else "MODEL.glb", flag, str(output) if output else "scene.blend"]
    if render is not None:
        args += ["--render", str(render)]
    args += ["--size", str(size), "--samples", str(samples)] + (["--up", "Z"] if z_up else [])
    cmd = shlex.join(["blender", "-b", "--factory-startup", "--python-exit-code", "1", "-P", str(path), "--", *args])
    header = (f"# Written by lift3d {__version__} (`lift3d blender --script-only`). Run it with Blender 3.4 or newer:\n"
              f"#   {cmd}\n"
              f"# or with a Python that has the bpy module (pip install bpy):\n"
              f"#   {shlex.join(['python', str(path), '--', *args])}\n"
              f"# Options: python {path.name} -- --help\n")
    write_text_atomic(path, header + script_text())
