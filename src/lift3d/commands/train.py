"""``lift3d train`` and ``lift3d evaluate``."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("finalize")(finalize)
    app.command("evaluate")(evaluate)


def train(
    config: Path = typer.Argument(..., help="YAML config (see configs/default.yaml)."),
    data: Path = typer.Option(None, "--data", help="Dataset folder (overrides data.root)."),
    out: Path = typer.Option(None, "--out", help="Run folder for checkpoints and logs (overrides train.out)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/last.safetensors if it exists."),
    epochs: int = typer.Option(None, "--epochs", help="Override train.epochs."),
    max_minutes: float = typer.Option(None, "--max-minutes", help="Stop after the epoch that passes this budget."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Train a model from a config; checkpoints go to OUT (best.safetensors, last.safetensors)."""
    from lift3d.train.run import run_training

    overrides: dict = {"data": {}, "train": {}}
    if data:
        overrides["data"]["root"] = str(data)
    if out:
        overrides["train"]["out"] = str(out)
    if epochs is not None:  # 0 or a negative count is refused by the config check, not ignored
        overrides["train"]["epochs"] = epochs
    if max_minutes is not None:
        overrides["train"]["max_minutes"] = max_minutes
    row = run_training(config, overrides, resume=resume, quiet=quiet)
    typer.echo(json.dumps({k: v for k, v in row.items() if not isinstance(v, dict)}))


def finalize(
    checkpoint: Path = typer.Argument(..., help="A trainer checkpoint, e.g. RUN/last.safetensors."),
    data: Path = typer.Option(None, "--data", help="Dataset folder (default: the one in the checkpoint's config)."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the finalized checkpoint."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Re-estimate batch-norm statistics and choose the threshold on validation shapes (done automatically at the
    end of `lift3d train`, which writes RUN/final.safetensors)."""
    from lift3d.models.checkpoint import load_tensors
    from lift3d.tasks import task_from_config
    from lift3d.train.calibrate import finalize as run_finalize
    from lift3d.train.config import merge
    from lift3d.train.run import datasets_from_config

    _, header = load_tensors(checkpoint)
    cfg = merge(header["config"], {"data": {"root": str(data)}} if data else {})
    train_set, val_set = datasets_from_config(cfg, task_from_config(cfg).targets)
    meta = run_finalize(checkpoint, train_set, val_set, cfg, output, quiet=quiet)
    typer.echo(json.dumps({k: v for k, v in meta.items() if k.startswith("val_") and not isinstance(v, dict)
                           or k == "threshold"}))


def evaluate(
    checkpoint: Path = typer.Argument(..., help="Checkpoint (.safetensors)."),
    dataset: Path = typer.Argument(..., help="Dataset folder: lift3d, ShapeNet-R2N2 or Pix3D layout."),
    split: str = typer.Option("test", "--split", help="train | val | test | all."),
    views: int = typer.Option(1, "--views", help="Views per shape."),
    threshold: float = typer.Option(None, "--threshold", help="Occupancy threshold (default: the checkpoint's)."),
    fscore: bool = typer.Option(True, "--fscore/--no-fscore", help="Also F-score and Chamfer of the meshes."),
    json_out: Path = typer.Option(None, "--json", help="Write the metrics as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """The model's own metric per category (IoU for voxel and occupancy models, F-score for point models), and the
    mesh F-score@0.01/0.02 and Chamfer-L1, of a checkpoint on a dataset split."""
    from rich.console import Console
    from rich.table import Table

    from lift3d.data.readers import open_dataset
    from lift3d.errors import InputError
    from lift3d.io.atomic import write_text_atomic
    from lift3d.limits import check_number
    from lift3d.models.checkpoint import load_model
    from lift3d.tasks import task_for_model

    if threshold is not None:
        check_number(threshold, "--threshold", 0, 1, lo_open=True, hi_open=True)
    model, cfg, meta = load_model(checkpoint)
    task = task_for_model(model)
    if threshold is not None and not task.thresholded:
        raise InputError(f"--threshold does not apply to a {task.name} model")
    level = threshold if threshold is not None else float(meta.get("threshold", 0.5))
    targets = tuple(dict.fromkeys(task.targets + (("points",) if fscore else ())))
    ds = open_dataset(dataset, split=split, views=views, targets=targets, image_size=int(cfg["data"]["image_size"]))
    res = task.evaluate(model, ds, views=views, threshold=level, fscore=fscore, quiet=quiet)
    title = f"{checkpoint.name} on {dataset.name}/{split}, {views} view(s)"
    table = Table(title=title + (f", threshold {level:.2f}" if task.thresholded else ""))
    table.add_column("category")
    table.add_column(task.score, justify="right")
    for c, v in res["per_category"].items():
        table.add_row(c, f"{v:.3f}")
    table.add_row("[b]mean[/b]", f"[b]{res['score']:.3f}[/b]")
    Console().print(table)
    if fscore:
        typer.echo(f"F-score@0.01 {res['fscore@0.01']:.3f}  F-score@0.02 {res['fscore@0.02']:.3f}  "
                   f"Chamfer-L1 {res['chamfer_l1']:.4f}")
    if json_out:
        write_text_atomic(json_out, json.dumps(res, indent=1))
