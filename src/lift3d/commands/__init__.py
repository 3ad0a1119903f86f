"""CLI command groups. Each module defines ``register(app: typer.Typer) -> None``.

Modules import heavy dependencies (torch, open3d) inside the command functions so ``lift3d --help``
stays fast.
"""
