"""Build a module by name from a registry table, turning every argument mistake into a ModelError."""

from __future__ import annotations

from torch import nn

from lift3d.errors import ModelError


def build_named(table: dict[str, type[nn.Module]], name: str | None, kind: str, kwargs: dict) -> nn.Module:
    """``table[name](**kwargs)``; an unknown name or bad arguments (``TypeError``/``ValueError``) -> ModelError."""
    if name not in table:
        raise ModelError(f"unknown {kind} {name!r}; available: {', '.join(table)}")
    try:
        return table[name](**kwargs)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"bad arguments for {kind} {name!r}: {exc}") from exc
