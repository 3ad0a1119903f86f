"""The ``lift3d`` command line (typer). Commands live in :mod:`lift3d.commands`, one module per group."""

from __future__ import annotations

import importlib
import sys

import typer

from lift3d import __version__
from lift3d.errors import Lift3DError

app = typer.Typer(
    name="lift3d",
    help="Turn one or more 2D images of an object into a 3D model (voxels, point clouds, meshes).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Command groups, registered in this order (each module has ``register(app)``).
COMMAND_MODULES = [
    "lift3d.commands.formats",
    "lift3d.commands.data",
    "lift3d.commands.train",
    "lift3d.commands.reconstruct",
    "lift3d.commands.view",
    "lift3d.commands.blender",
    "lift3d.commands.check",
    "lift3d.commands.serve",
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lift3d {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """lift3d: 2D images -> 3D models."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; project errors become one line on stderr and exit code 2."""
    try:
        app(args=argv, standalone_mode=True)
    except Lift3DError as exc:
        print(f"lift3d: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("lift3d: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
