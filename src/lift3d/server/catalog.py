"""The models a server offers (name -> checkpoint, never a path from a request), their cards and the formats a
result is served in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lift3d.errors import InputError
from lift3d.models.checkpoint import WEIGHTS_DIR
from lift3d.reconstruct.pipeline import DEFAULT_MODEL, SHIPPED

FORMATS = ("glb", "obj", "ply", "stl", "usdz", "binvox", "xyz")
"""Formats a result is served in (``/api/jobs/{id}/result.{ext}``): mesh, voxel and point files of one file each."""

MESH_FORMATS = ("glb", "obj", "ply", "stl", "usdz")

MEDIA_TYPES = {"glb": "model/gltf-binary", "obj": "model/obj", "ply": "application/x-ply", "stl": "model/stl",
               "usdz": "model/vnd.usdz+zip", "binvox": "application/octet-stream", "xyz": "text/plain",
               "zip": "application/zip"}


@dataclass(frozen=True)
class ModelEntry:
    name: str
    checkpoint: Path
    default: bool
    card: str

    @property
    def description(self) -> str:
        """The card's **Task** paragraph as plain text (or a plain phrase when the model has no card)."""
        m = re.search(r"\*\*Task\*\*:\s*(.+)", self.card)
        return m.group(1).replace("`", "").strip() if m else f"the {self.name} model"

    def info(self) -> dict:
        return {"name": self.name, "default": self.default, "description": self.description, "card": self.card,
                "formats": list(FORMATS)}


def card_path(checkpoint: Path) -> Path:
    """The model card beside a checkpoint: ``default.safetensors`` -> ``MODEL_CARD.md``, ``points.safetensors`` ->
    ``MODEL_CARD_points.md``."""
    stem = checkpoint.stem
    return checkpoint.with_name("MODEL_CARD.md" if stem == "default" else f"MODEL_CARD_{stem}.md")


class Catalog:
    """The served models: ``models`` maps name -> checkpoint (None: :data:`SHIPPED`, whose weights exist)."""

    def __init__(self, models: dict[str, Path] | None = None) -> None:
        table = models if models is not None else {n: WEIGHTS_DIR / f for n, f in SHIPPED.items()
                                                   if (WEIGHTS_DIR / f).is_file()}
        if not table:
            raise InputError("no model to serve: the shipped weights are missing (README: reproducing them)")
        default = DEFAULT_MODEL if DEFAULT_MODEL in table else next(iter(table))
        self.entries: dict[str, ModelEntry] = {}
        for name, path in table.items():
            card = card_path(Path(path))
            text = card.read_text(encoding="utf-8") if card.is_file() else ""
            self.entries[name] = ModelEntry(name, Path(path), name == default, text)
        self.default = default

    def get(self, name: str | None) -> ModelEntry:
        """The entry for a requested name (None or '' = the default); an unknown name is an InputError."""
        key = name or self.default
        if key not in self.entries:
            raise InputError(f"unknown model {key!r}; this server offers: {', '.join(self.entries)}")
        return self.entries[key]
