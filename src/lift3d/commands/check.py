"""``lift3d check``: a mesh quality report and ``--fix``. Exit 0 passes, 1 defects, 2 bad input."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from lift3d.errors import InputError

REQUIRE_HELP = ("Comma-separated requirements for exit code 0: closed, manifold, outward, no_specks, no_degenerate, "
                "no_duplicates, no_self_intersections ('' requires nothing).")


def register(app: typer.Typer) -> None:
    app.command("check")(check)


def _requirements(text: str) -> tuple[str, ...]:
    from lift3d.quality import REQUIREMENTS

    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in REQUIREMENTS]
    if unknown:
        raise InputError(f"--require: unknown requirement '{unknown[0]}'; use {', '.join(REQUIREMENTS)}")
    return names


def _table(rows: list[tuple[str, str]]) -> str:
    return "\n".join(f"  {name:<15} {value}" for name, value in rows)


def check(
    model: Path = typer.Argument(..., help="A mesh: .glb .gltf .obj .ply .stl .off."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of the table."),
    fix: bool = typer.Option(False, "--fix", help="Repair specks, degenerate/duplicate faces, holes and normals "
                                                 "(needs -o)."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Where --fix writes the repaired mesh (a mesh "
                                                                     "format; written all or nothing)."),
    watertight: bool = typer.Option(False, "--watertight", help="With --fix: also make it a closed manifold, by a "
                                                                "voxel remesh if hole filling cannot (detail lost)."),
    speck_fraction: float = typer.Option(0.01, "--speck-fraction", help="A part under this share of the volume "
                                                                        "(area if some part is open) is a speck, "
                                                                        "[0, 1)."),
    require: str = typer.Option("closed,manifold,outward,no_specks", "--require", help=REQUIRE_HELP),
    self_intersections: bool = typer.Option(True, "--self-intersections/--no-self-intersections",
                                            help="Count intersecting triangle pairs (the slowest item)."),
) -> None:
    """Report a mesh's quality: closed, manifold, outward normals, specks, degenerate faces, self-intersections,
    genus, counts and size. Exit 0 when it passes --require (after --fix, the repaired mesh), 1 when not, 2 for bad
    input."""
    from lift3d.io import check_output_path, read_any, write_any
    from lift3d.io.paths import check_outputs
    from lift3d.quality import check_mesh_quality, fix_mesh

    required = _requirements(require)
    if not 0.0 <= speck_fraction < 1.0:
        raise InputError(f"--speck-fraction must be in [0, 1), got {speck_fraction}")
    if fix and output is None:
        raise InputError("--fix needs -o OUT (the input is never overwritten)")
    if output is not None and not fix:
        raise InputError("-o is the output of --fix: add --fix")
    if watertight and not fix:
        raise InputError("--watertight is a repair: add --fix")
    if output is not None:
        check_output_path(output, "mesh")
        check_outputs([output], [model])
    kind, mesh = read_any(model)
    if kind != "mesh":
        raise InputError(f"{model} holds {kind}, not a mesh: `lift3d check` reads triangle meshes")
    units = "metres" if model.suffix.lower() in (".glb", ".gltf") else "units"
    report = check_mesh_quality(mesh, speck_fraction, units, self_intersections=self_intersections)
    final, result = report, None
    if fix:
        result = fix_mesh(mesh, report, watertight=watertight, self_intersections=self_intersections)
        final = result.report
        write_any(result.mesh, output)
    passed = final.passes(required)
    if as_json:
        out: dict = {"file": str(model), "report": report.to_dict(), "require": list(required), "passes": passed}
        if result is not None:
            out["fix"] = {"output": str(output), "notes": result.notes, "unfixed": result.unfixed,
                          "report": final.to_dict()}
        typer.echo(json.dumps(out, indent=1))
    else:
        typer.echo(f"check {model}\n{_table(report.rows())}\nverdict: {report.verdict()}")
        if result is not None:
            for note in result.notes or ["nothing to repair"]:
                typer.echo(f"fixed: {note}")
            for text in result.unfixed:
                typer.echo(f"not fixed: {text}")
            typer.echo(f"wrote {output}: {final.verdict()}")
        failed = final.problems(required)
        verdict = f"passes: {', '.join(required) or 'nothing required'}"
        typer.echo("FAILS: " + "; ".join(failed) if failed else verdict)
    if not passed:
        raise typer.Exit(1)
