"""Real-world scale and placement of an output model: ``--size``, ``--units``, ``--up``, ``--frame``.

The models answer in the canonical frame: centred, longest side 1, +Y up, front facing +Z (glTF's convention).
An asset for a game engine, an AR viewer or a slicer wants more: a size in metres (or the printer's millimetres),
standing on the ground, centred over the origin, the right axis up. Conventions per format:

* glTF/GLB and USD(Z) are in metres (their specs say so); glTF is +Y up, front +Z. USD may be +Y or +Z up (the
  stage says which).
* STL, OBJ, PLY, OFF carry no unit: coordinates are in ``--units`` (default metres; ``mm`` for printing). With
  ``--up z`` (Blender, 3D printing, CAD) the model is turned so +Z is up and its front faces -Y (Blender's
  front view).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

from lift3d.errors import InputError

UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254}  # metres per unit
AXES = {"longest": None, "width": 0, "x": 0, "height": 1, "y": 1, "depth": 2, "z": 2}  # canonical-frame axes
METRE_FORMATS = (".glb", ".gltf", ".usdz", ".usda", ".usdc", ".usd")  # unit fixed to metres by the spec
Y_UP_ONLY = (".glb", ".gltf")  # glTF is +Y up by definition
FRAMES = ("ground", "canonical")
MAX_SIZE_M = 1e4  # 10 km: beyond that a size is a typo
_SIZE = re.compile(r"^\s*(?:(?P<axis>[a-z]+)\s*=\s*)?"
                   r"(?P<value>[0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)\s*(?P<unit>[a-z]*)\s*$")


@dataclass(frozen=True)
class Size:
    """A wanted size: ``metres`` along ``axis`` (``longest`` or a canonical axis name, see :data:`AXES`)."""

    metres: float
    axis: str = "longest"


@dataclass(frozen=True)
class Placement:
    """How to place the model in its file: ``size`` (None keeps the model's units: longest side 1), output
    ``units`` (a key of :data:`UNITS`), ``up`` (``y`` or ``z``) and ``frame`` (``ground``: standing on y = 0,
    centred over the origin; ``canonical``: the model's own frame, untouched)."""

    size: Size | None = None
    units: str = "m"
    up: str = "y"
    frame: str = "ground"

    def describe(self) -> str:
        """One phrase for the CLI, e.g. ``0.45 m longest side, +Y up, on the ground``."""
        parts = [] if self.size is None else [f"{self.size.metres:g} m {self.size.axis}"
                                              f"{' side' if self.size.axis == 'longest' else ''}"]
        if self.units != "m":
            parts.append(f"in {self.units}")
        parts.append(f"+{self.up.upper()} up")
        parts.append("on the ground" if self.frame == "ground" else "model frame")
        return ", ".join(parts)


def parse_size(spec: str) -> Size:
    """``0.45m``, ``45cm``, ``450mm``, ``18in`` (longest side) or ``height=0.8m`` / ``width=30cm`` / ``depth=...``
    (one axis) -> :class:`Size`. A number without a unit is metres."""
    m = _SIZE.match(spec.lower()) if isinstance(spec, str) else None
    if m is None:
        raise InputError(f"--size {spec!r} is not a size: use e.g. 0.45m, 45cm, 450mm, 18in or height=0.8m")
    axis, unit = m["axis"] or "longest", m["unit"] or "m"
    if axis not in AXES:
        raise InputError(f"--size axis {axis!r} unknown; use one of {', '.join(AXES)}")
    if unit not in UNITS:
        raise InputError(f"--size unit {unit!r} unknown; use one of {', '.join(UNITS)}")
    metres = float(m["value"]) * UNITS[unit]
    if not 0.0 < metres <= MAX_SIZE_M:
        raise InputError(f"--size must be more than 0 and at most {MAX_SIZE_M:g} m, got {spec!r}")
    return Size(metres, axis)


def check_placement(placement: Placement, path: str | Path) -> None:
    """Refuse what the output format cannot express (one line, before any work)."""
    ext = Path(path).suffix.lower()
    if placement.units not in UNITS:
        raise InputError(f"--units {placement.units!r} unknown; use one of {', '.join(UNITS)}")
    if placement.up not in ("y", "z"):
        raise InputError(f"--up must be y or z, got {placement.up!r}")
    if placement.frame not in FRAMES:
        raise InputError(f"--frame must be one of {', '.join(FRAMES)}, got {placement.frame!r}")
    if placement.units != "m" and ext in METRE_FORMATS:
        raise InputError(f"{ext} files are in metres by definition; --units {placement.units} applies to STL, OBJ, "
                         "PLY and OFF (use --size to set the real size)")
    if placement.up == "z" and ext in Y_UP_ONLY:
        raise InputError(f"glTF ({ext}) is +Y up by definition; --up z is for STL, OBJ, PLY, OFF and USD")


def z_up_rotation() -> np.ndarray:
    """4x4 turning lift3d's +Y-up, front +Z frame into +Z up with the front facing -Y: (x, y, z) -> (x, -z, y)."""
    return trimesh.transformations.rotation_matrix(np.pi / 2.0, [1.0, 0.0, 0.0])


def placement_matrix(bounds: np.ndarray, placement: Placement) -> np.ndarray:
    """The 4x4 transform ``placement`` applies to a model whose bounding box is ``bounds`` ``(2, 3)``.

    ``ground``: the bounding box is centred over the origin in x and z and its lowest point is at y = 0 (before
    ``--up z`` turns y into z). The size is measured on the canonical axes (``height`` is always the up axis). The
    result is in ``placement.units``. Anything drawn in the model's frame (its points, its voxels) is placed with
    the same matrix as its mesh.
    """
    lo, hi = np.asarray(bounds, np.float64)
    matrix = np.eye(4)
    if placement.frame == "ground":
        matrix[:3, 3] = [-(lo[0] + hi[0]) / 2.0, -lo[1], -(lo[2] + hi[2]) / 2.0]
    scale = 1.0 / UNITS[placement.units]  # model units are metres unless a size is asked
    if placement.size is not None:
        axis = AXES[placement.size.axis]
        extent = float((hi - lo).max() if axis is None else (hi - lo)[axis])
        if extent <= 0.0:
            raise InputError(f"the model has no extent along its {placement.size.axis}: cannot scale it to --size")
        scale *= placement.size.metres / extent
    matrix = np.diag([scale, scale, scale, 1.0]) @ matrix
    return z_up_rotation() @ matrix if placement.up == "z" else matrix


def place(mesh: trimesh.Trimesh, placement: Placement) -> trimesh.Trimesh:
    """A copy of ``mesh`` (canonical frame, vertices ``(V, 3)``) scaled, moved and turned as ``placement`` says
    (:func:`placement_matrix`). Visuals (texture, colours) are kept; ``metadata`` records the up axis and the
    metres per unit for the writers."""
    out = mesh.copy()
    matrix = placement_matrix(out.bounds, placement)
    if not np.allclose(matrix, np.eye(4), rtol=0.0, atol=0.0):
        out.apply_transform(matrix)
    out.metadata["up_axis"] = placement.up.upper()
    out.metadata["meters_per_unit"] = UNITS[placement.units]
    return out
