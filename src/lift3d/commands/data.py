"""``lift3d data generate | show | info``: make and inspect paired 2D/3D datasets."""

from __future__ import annotations

from pathlib import Path

import typer

data_app = typer.Typer(help="Generate and inspect paired 2D/3D datasets.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")


@data_app.command("generate")
def generate(
    out: Path = typer.Option(..., "--out", "-o", help="Dataset folder (created; re-running resumes)."),
    categories: str = typer.Option(None, "--categories", help="Comma-separated shape families (default: all)."),
    shapes_per_category: int = typer.Option(10, "--shapes-per-category", "-n", help="Shapes per family."),
    views: int = typer.Option(12, "--views", help="Rendered views per shape."),
    image_size: int = typer.Option(128, "--image-size", help="Render size in pixels (square)."),
    voxel_res: list[int] = typer.Option([32], "--voxel-res", help="Ground-truth voxel resolution(s), repeatable."),
    voxel_mode: str = typer.Option("tight", "--voxel-mode", help="Voxel convention: tight (cells at least half "
                                   "inside; the default) or surface (binvox / ShapeNetVox32: every cell the solid "
                                   "touches)."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same bytes."),
    workers: int = typer.Option(2, "--workers", "-j", help="Parallel worker processes."),
    meshes: Path = typer.Option(None, "--meshes", help="Render this folder of meshes instead of procedural shapes "
                                                       "(category = sub-folder name)."),
    up: str = typer.Option("+y", "--up", help="Up axis of the --meshes files (+y, +z, ...)."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Skip unreadable meshes with a warning."),
    appearance: str = typer.Option("random", "--appearance", help="random: textured parts, glossy/metal "
                                   "materials, 1-3 coloured lights with soft shadows, lenses 15-60 deg, roll and "
                                   "off-centre framing (training default); plain: flat part colours, one light, "
                                   "40 deg lens (the original look); shift: a held-out look (marble/camouflage "
                                   "textures, a studio three-point rig) for the appearance-shift test."),
    only_split: str = typer.Option(None, "--only-split", help="Write only this split's shapes (train | val | "
                                   "test); the split is the one the full dataset would have."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Render shapes into a dataset: views, masks, depth, normals, cameras + voxels, points, occupancy, mesh."""
    from lift3d.data.generate import generate_dataset

    cats = [c.strip() for c in categories.split(",") if c.strip()] if categories else None
    m = generate_dataset(out, cats, shapes_per_category, views, image_size, seed, workers, tuple(voxel_res),
                         quiet=quiet, skip_bad=skip_bad, mesh_source=meshes, up=up, voxel_mode=voxel_mode,
                         appearance=appearance, only_split=only_split)
    sizes = {k: len(v) for k, v in m["splits"].items()}
    typer.echo(f"{out}: {len(m['shapes'])} shapes in {len(m['categories'])} categories, splits {sizes}")


@data_app.command("show")
def show(
    root: Path = typer.Argument(..., help="Dataset folder."),
    index: int = typer.Option(0, "--index", "-i", help="Shape index within the split."),
    split: str = typer.Option("all", "--split", help="train | val | test | all."),
    output: Path = typer.Option(None, "-o", "--output", help="PNG to write (default: sheet_<id>.png)."),
    views: int = typer.Option(6, "--views", help="Views to show."),
) -> None:
    """Write a contact sheet PNG: views, masks, depth, normals, GT voxels and GT points."""
    from PIL import Image

    from lift3d.data.dataset import ShapeDataset
    from lift3d.data.sheet import contact_sheet
    from lift3d.io.atomic import atomic_path

    img = contact_sheet(root, index, split, views)
    if output is None:
        output = Path(f"sheet_{ShapeDataset(root, split, targets=()).shapes[index]['id']}.png")
    with atomic_path(output) as tmp:
        Image.fromarray(img).save(tmp, format="PNG")
    typer.echo(f"wrote {output}")


@data_app.command("info")
def info(root: Path = typer.Argument(..., help="Dataset folder.")) -> None:
    """Shapes per split and category."""
    from lift3d.data.dataset import read_manifest

    m = read_manifest(root)
    typer.echo(f"{root}: {len(m['shapes'])} shapes, {m['views']} views of {m['image_size']} px, voxels "
               f"{m['voxel_res']}, source {m.get('source')}")
    for cat in m["categories"]:
        counts = {s: sum(1 for x in m["shapes"] if x["category"] == cat and x["split"] == s)
                  for s in ("train", "val", "test")}
        typer.echo(f"  {cat:<12} " + "  ".join(f"{k} {v:>4}" for k, v in counts.items()))
