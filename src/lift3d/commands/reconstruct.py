"""``lift3d reconstruct``: image(s) -> 3D model file."""

from __future__ import annotations

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
                                     ".usdz .usda .usdc (mesh), .binvox .npz (voxels), .pcd .xyz (points). With "
                                     "several images and no --views, a folder that gets one .glb per image (or "
                                     "--format; a repeated name gets _2, _3...)."),
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
    delight: bool = typer.Option(False, "--delight", help="Remove the photo's smooth shading from the texture (a "
                                 "light-and-ambient fit to the surface normals), so an engine can relight the model; "
                                 "off by default: colour that really changes with orientation would be evened out."),
    faces: int = typer.Option(None, "--faces", help="Face budget: decimate to about N faces before texturing "
                              "(quadric, keeps the surface closed)."),
    lod: str = typer.Option(None, "--lod", help="Several levels of detail in one go, e.g. 50000,5000,500: writes "
                            "NAME_lod0.EXT (finest) ... NAME_lodN.EXT, each decimated, then textured."),
    size: str = typer.Option(None, "--size", help="Real-world size: 0.45m, 45cm, 450mm, 18in (longest side) or "
                             "height=0.8m / width=... / depth=... (one axis)."),
    units: str = typer.Option("m", "--units", help="Units of STL/OBJ/PLY/OFF coordinates: m, cm, mm, in (glTF and "
                              "USD are always metres)."),
    up: str = typer.Option("y", "--up", help="Up axis: y (glTF, engines) or z (Blender, printing, CAD; front "
                           "faces -Y)."),
    frame: str = typer.Option("ground", "--frame", help="ground: standing on the ground plane (lowest point at 0), "
                              "centred over the origin; canonical: the model's own frame (centred, longest side "
                              "1), e.g. for evaluation."),
    close: bool = typer.Option(True, "--close/--no-close", help="Make an open surface watertight (hole filling, "
                               "else a 64^3 voxel remesh) so the file is a closed solid."),
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
    from lift3d.reconstruct.assets import lod_paths
    from lift3d.reconstruct.service import Request, Service

    if masks and len(masks) != len(images):
        raise InputError(f"{len(masks)} --mask given for {len(images)} images")
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
    settings = dict(model=model_name, checkpoint=checkpoint, threshold=threshold, resolution=resolution,
                    smooth=smooth, texture=texture, texture_size=texture_size, symmetry=symmetry, delight=delight,
                    post=post, faces=faces, lod=lod, size=size, units=units, up=up, frame=frame, close=close)
    service = Service(threads=threads)
    # Every option is checked for every output (a texture in STL, --up z in glTF...) before any work.
    budgets = [service.options(Request(images=[None], format=out.suffix, **settings)).faces for _, out in jobs]
    previews = [None if preview is None else preview if len(jobs) == 1 else
                preview.with_name(f"{out.stem}_{preview.name}") for _, out in jobs]
    # Every output is checked against every input before anything is read, computed or written.
    check_outputs([p for (_, out), b in zip(jobs, budgets, strict=True) for p in lod_paths(out, b)]
                  + [p for p in previews if p is not None], [*images, *(masks or []), checkpoint],
                  create_folder=folder)

    # Read and validate every input before loading the model or writing anything.
    rgbas = [load_image(p) for p in images]
    mask_arrays = [load_mask(m, im.shape[:2]) for m, im in zip(masks, rgbas, strict=True)] if masks else None
    requests = [Request(images=[rgbas[i] for i in idx], masks=[mask_arrays[i] for i in idx] if mask_arrays else None,
                        format=out.suffix, **settings) for idx, out in jobs]
    service.check(requests[0])  # loads the model: a bad checkpoint or option fails before any output
    report = []
    with all_or_nothing() as stage:
        for (idx, out), prev, request in zip(jobs, previews, requests, strict=True):
            try:
                result = service.run(request)
                result.write(stage, out)
                rec = result.reconstruction
                if prev is not None and rec.mesh is not None:
                    from lift3d.reconstruct.preview import write_turntable

                    first = result.assets[0] if result.assets else None
                    shown = first.texturing.mesh if first is not None and first.texturing is not None else rec.mesh
                    write_turntable(shown, stage(prev))
            except Lift3DError as exc:
                if len(jobs) == 1:
                    raise
                raise type(exc)(f"{images[idx[0]]}: {exc} (no output written: all or nothing)") from exc
            report += result.summary(out)
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
