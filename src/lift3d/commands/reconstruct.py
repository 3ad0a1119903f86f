"""``lift3d reconstruct``: image(s) -> 3D model file."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from lift3d.errors import InputError, Lift3DError


def _post_help() -> str:
    from lift3d.postprocess.pipeline import help_lines

    steps = ", ".join(line.split()[0] for line in help_lines())
    return ("Refinement steps after the model's own smoothing, in order, e.g. 'fill,smooth:taubin:10,decimate:5000,"
            f"watertight'. Steps: {steps} (docs/postprocess.md). Applied before texturing.")


def register(app: typer.Typer) -> None:
    app.command("reconstruct")(reconstruct)


def reconstruct(
    images: list[Path] = typer.Argument(..., help="Image file(s): PNG/JPEG/any PIL format, RGBA or plain background."),
    output: Path = typer.Option(..., "-o", "--output",
                                help="Output file; the extension picks the format: .glb .gltf .obj .ply .stl .off "
                                     "(mesh), .binvox .npz (voxels), .pcd .xyz (points). With several images and "
                                     "no --views, a folder that gets one .glb per image (or --format; a repeated "
                                     "name gets _2, _3...)."),
    views: bool = typer.Option(False, "--views", help="The images are views of ONE object: fuse them."),
    masks: list[Path] = typer.Option(None, "--mask", help="Foreground mask per image (white = object)."),
    model_name: str = typer.Option(None, "--model", help="Shipped model: voxel (default), points or occupancy "
                                   "(see README: which model for what)."),
    checkpoint: Path = typer.Option(None, "--checkpoint", help="Trainer checkpoint (.safetensors) instead of a "
                                    "shipped model."),
    resolution: int = typer.Option(None, "--resolution", help="Occupancy model: marching-cubes grid (64, 128, 256; "
                                   "default 128)."),
    threshold: float = typer.Option(None, "--threshold", help="Occupancy threshold (default: from the model card)."),
    smooth: int = typer.Option(10, "--smooth", help="Taubin smoothing iterations (0 = raw marching cubes)."),
    post: str = typer.Option(None, "--post", help=_post_help()),
    fmt: str = typer.Option("glb", "--format", help="Extension for folder output (several images, no --views)."),
    preview: Path = typer.Option(None, "--preview", help="Also write a turntable render of the result (PNG)."),
    texture: str = typer.Option("auto", "--texture", help="Colour from the photo(s): image (UV atlas + texture "
                                "image), vertex (per-vertex colours), flat (one median colour), none, or auto (image "
                                "for .glb/.gltf/.obj, vertex for .ply, none otherwise). The photo's camera is found "
                                "by fitting the mesh's silhouette to the photo's; the unseen back is filled from its "
                                "mirror image where the shape is symmetric, else interpolated."),
    texture_size: int = typer.Option(1024, "--texture-size", help="Side of the texture image in pixels (16-8192)."),
    symmetry: bool = typer.Option(True, "--symmetry/--no-symmetry", help="Fill the unseen surface from its mirror "
                                  "image where the shape is mirror-symmetric."),
    threads: int = typer.Option(None, "--threads", help="CPU threads for the network."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
) -> None:
    """Reconstruct a 3D model from one image, or from several views of one object (--views).

    Images of any size are downscaled while decoded to the working size (LIFT3D_MAX_IMAGE_SIDE, default 1024 px;
    docs/limits.md). All or nothing: every output (one per image without --views, and --preview) is written only
    when all of them are complete; an error on any image leaves no output at all, names that image and says
    nothing was written. An output may not be one of the inputs, whatever its extension.
    """
    from lift3d.io import check_output_path
    from lift3d.io.atomic import all_or_nothing
    from lift3d.io.images import load_image, load_mask
    from lift3d.io.paths import check_outputs
    from lift3d.limits import check_number
    from lift3d.reconstruct.outputs import write_reconstruction
    from lift3d.reconstruct.pipeline import Reconstructor, shipped_checkpoint
    from lift3d.reconstruct.texturing import mode_for, texture_mesh

    if masks and len(masks) != len(images):
        raise InputError(f"{len(masks)} --mask given for {len(images)} images")
    if checkpoint is not None and model_name is not None:
        raise InputError("give --model or --checkpoint, not both")
    check_number(smooth, "--smooth", 0, 1000)
    check_number(texture_size, "--texture-size", 16, 8192)
    from lift3d.postprocess.pipeline import parse_post, run_post

    steps = parse_post(post) if post else []  # a bad step fails before any work
    if threads is not None:
        check_number(threads, "--threads", 1, 1024)
    folder = not views and len(images) > 1
    if folder:
        if output.exists() and not output.is_dir():
            raise InputError(f"with several images and no --views, -o names a folder, but {output} is a file")
        ext = "." + fmt.lower().lstrip(".")
        jobs = [([i], check_output_path(output / f"{stem}{ext}")) for i, stem in enumerate(_unique_stems(images))]
    else:
        jobs = [(list(range(len(images))), check_output_path(output))]
    if preview is not None and preview.suffix.lower() != ".png":
        raise InputError(f"--preview must be a .png file, got {preview}")
    modes = [mode_for(out, texture) for _, out in jobs]  # a mode the format cannot hold fails before any work
    previews = [None if preview is None else preview if len(jobs) == 1 else
                preview.with_name(f"{out.stem}_{preview.name}") for _, out in jobs]
    # Every output is checked against every input before anything is read, computed or written.
    check_outputs([out for _, out in jobs] + [p for p in previews if p is not None],
                  [*images, *(masks or []), checkpoint], create_folder=folder)

    # Read and validate every input before loading the model or writing anything.
    rgbas = [load_image(p) for p in images]
    mask_arrays = [load_mask(m, im.shape[:2]) for m, im in zip(masks, rgbas, strict=True)] if masks else None
    model = Reconstructor(checkpoint if checkpoint is not None else shipped_checkpoint(model_name), threads=threads)
    options = {} if resolution is None else {"resolution": resolution}
    model.task.check_options(options)
    model.check_threshold(threshold)
    report = []
    with all_or_nothing() as stage:
        for (idx, out), prev, mode in zip(jobs, previews, modes, strict=True):
            sel_masks = [mask_arrays[i] for i in idx] if mask_arrays else None
            tex = None
            try:
                views = [rgbas[i] for i in idx]
                rec = model.reconstruct(views, sel_masks, threshold=threshold, smooth_iterations=smooth, **options)
                if steps and rec.mesh is not None:
                    t0 = time.perf_counter()
                    rec.mesh = run_post(rec.mesh, steps).mesh
                    rec.timings["post"] = time.perf_counter() - t0
                if rec.mesh is not None:
                    t0 = time.perf_counter()
                    tex = texture_mesh(rec.mesh, views, rec.masks, mode, texture_size=texture_size,
                                       symmetry=symmetry)
                    rec.timings["texture"] = time.perf_counter() - t0
                write_reconstruction(rec, stage(out), mesh=None if tex is None else tex.mesh)
                if prev is not None and rec.mesh is not None:
                    from lift3d.reconstruct.preview import write_turntable

                    shown = tex.mesh if tex is not None and mode != "none" else rec.mesh
                    write_turntable(shown, stage(prev))
            except Lift3DError as exc:
                if len(jobs) == 1:
                    raise
                raise type(exc)(f"{images[idx[0]]}: {exc} (no output written: all or nothing)") from exc
            faces = 0 if rec.mesh is None else len((rec.mesh if tex is None else tex.mesh).faces)
            ms = {k: f"{v * 1000:.0f} ms" for k, v in rec.timings.items()}
            colour = "" if tex is None else f", {tex.summary()}"
            report.append(f"{out}: {len(idx)} view(s), {rec.summary()}, {faces} faces{colour} ({ms})")
    if not quiet:
        for line in report:
            typer.echo(line)


def _unique_stems(images: list[Path]) -> list[str]:
    """Output names for a folder of results: each image's stem, ``_2``, ``_3``... on a repeated one."""
    seen: dict[str, int] = {}
    out = []
    for img in images:
        seen[img.stem] = seen.get(img.stem, 0) + 1
        out.append(img.stem if seen[img.stem] == 1 else f"{img.stem}_{seen[img.stem]}")
    return out
