"""One limits policy: how large an input lift3d accepts, in one place.

Every reader and command checks its input against these limits *before* allocating for it (an image header's
size before decoding, a mesh header's counts before parsing, a checkpoint's parameter count on the ``meta`` device
before building the model), so a hostile or mistaken input gives one clear error instead of minutes of work or an
out-of-memory kill. Each limit can be raised (or lowered) by the environment variable it names, for a user with
a reason (a 200-megapixel phone photo, a 30-million-face scan); the values are read at each check, so setting the
variable in a running process works too. ``docs/limits.md`` lists them.

The limits (environment variable, default):

- :data:`IMAGE_PIXELS` (``LIFT3D_MAX_IMAGE_PIXELS``, 150,000,000): pixels an image header may declare.
- :data:`IMAGE_SIDE` (``LIFT3D_MAX_IMAGE_SIDE``, 1024): working side; larger images are downscaled while they are
  decoded (never refused for it).
- :data:`MESH_FACES`, :data:`MESH_VERTICES` (``LIFT3D_MAX_MESH_FACES``, ``LIFT3D_MAX_MESH_VERTICES``, 10,000,000
  each): faces and vertices of a mesh file.
- :data:`POINTS` (``LIFT3D_MAX_POINTS``, 10,000,000): points read, or asked for (``--points``).
- :data:`VOXEL_RESOLUTION` (``LIFT3D_MAX_VOXEL_RESOLUTION``, 512): voxel grid side, read or asked for (``--res``).
- :data:`MODEL_PARAMETERS` (``LIFT3D_MAX_MODEL_PARAMETERS``, 100,000,000): parameters a checkpoint's config builds.
- :data:`COORDINATE` (``LIFT3D_MAX_COORDINATE``, 1e9): absolute value of a vertex or point coordinate.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from lift3d.errors import InputError, Lift3DError


@dataclass(frozen=True)
class Limit:
    """One named limit: a default value, overridable by an environment variable.

    Attributes:
        what: what is counted, for messages (``"pixels"``, ``"faces"``).
        env: the environment variable that overrides :attr:`default`.
        default: the value when ``env`` is unset.
        doc: why the default is what it is, for people.
    """

    what: str
    env: str
    default: int | float
    doc: str

    @property
    def value(self) -> int | float:
        """The limit in force: ``$env`` when set (a positive number; ``1e8`` and ``100_000_000`` both work)."""
        raw = os.environ.get(self.env, "").strip()
        if not raw:
            return self.default
        try:
            val = float(raw.replace("_", ""))
        except ValueError:
            val = math.nan
        if not (math.isfinite(val) and val > 0):
            raise InputError(f"{self.env}={raw!r} is not a positive number")
        return int(val) if isinstance(self.default, int) else val

    def check(self, n: int | float, subject: str, error: type[Lift3DError] = InputError) -> None:
        """Raise ``error`` (one line naming ``subject``, the limit and its variable) when ``n`` exceeds the limit."""
        if n > self.value:
            raise error(f"{subject} has {_fmt(n)} {self.what}, over the limit of {_fmt(self.value)} "
                        f"(set {self.env} to change it)")


def _fmt(n: int | float) -> str:
    return f"{n:,}" if float(n).is_integer() and abs(n) < 1e15 else f"{n:.3g}"


IMAGE_PIXELS = Limit(
    "pixels", "LIFT3D_MAX_IMAGE_PIXELS", 150_000_000,
    "Hard cap on the width x height an image header declares, checked before any decoding: a decompression bomb "
    "(a 1-bit PNG of 20000 x 20000 is a few kilobytes) is refused. 150 MP takes every camera up to 100-megapixel "
    "sensors; a PNG of that size still decodes in under 1 GB (JPEGs decode at a reduced scale, see IMAGE_SIDE).",
)
IMAGE_SIDE = Limit(
    "pixels per side", "LIFT3D_MAX_IMAGE_SIDE", 1024,
    "Working size: an image whose longer side is larger is downscaled to this side while it is decoded (JPEG: "
    "by the decoder's DCT scaling, so a 60 MP photo never exists in memory at full size; other formats: by "
    "Image.reduce before any other step). The models see 96-128 px crops, and foreground masking costs time "
    "in proportion to pixels: 1024 keeps a small object in a large frame above the model's input size.",
)
MESH_FACES = Limit(
    "faces", "LIFT3D_MAX_MESH_FACES", 10_000_000,
    "Faces of a mesh file (checked from the header where the format has one: OFF, PLY, binary STL). 10 M faces "
    "are ~1.5 GB of trimesh data during reading; lift3d's own meshes have ~10^4.",
)
MESH_VERTICES = Limit(
    "vertices", "LIFT3D_MAX_MESH_VERTICES", 10_000_000,
    "Vertices of a mesh file (checked from the header where the format has one).",
)
POINTS = Limit(
    "points", "LIFT3D_MAX_POINTS", 10_000_000,
    "Points read from a point file or asked for with --points: 10 M points are 240 MB as float64, and every "
    "conversion makes a few copies.",
)
VOXEL_RESOLUTION = Limit(
    "cells per side", "LIFT3D_MAX_VOXEL_RESOLUTION", 512,
    "Side of a voxel grid read from a file or asked for with --res: 512^3 is 134 M cells (0.5 GB as float32 for "
    "marching cubes); the models predict 32^3 and mesh their fields at up to 256^3.",
)
MODEL_PARAMETERS = Limit(
    "parameters", "LIFT3D_MAX_MODEL_PARAMETERS", 100_000_000,
    "Parameters of the model a checkpoint's config describes, counted on the meta device before any memory is "
    "allocated: 100 M is 400 MB of float32; the shipped models have 5-10 M.",
)
COORDINATE = Limit(
    "coordinate magnitude", "LIFT3D_MAX_COORDINATE", 1e9,
    "Absolute value of a vertex or point coordinate. Areas and volumes square and cube coordinates: beyond ~1e100 "
    "they overflow float64, and float32 (the renderer, Open3D) overflows beyond 3.4e38. 1e9 takes any real "
    "unit (a 1000 km object in millimetres).",
)

ALL = (IMAGE_PIXELS, IMAGE_SIDE, MESH_FACES, MESH_VERTICES, POINTS, VOXEL_RESOLUTION, MODEL_PARAMETERS, COORDINATE)


def check_coordinates(coords: np.ndarray, subject: str, error: type[Lift3DError] = InputError) -> None:
    """Refuse NaN, infinite or absurdly large coordinates ``(N, 3)`` (see :data:`COORDINATE`), without a numpy
    warning."""
    a = np.asarray(coords)
    if a.size == 0:
        return
    if not np.isfinite(a).all():
        raise error(f"{subject} has NaN or infinite coordinates")
    top = float(np.abs(a).max())
    if top > COORDINATE.value:
        raise error(f"{subject} has coordinates up to {top:.3g}, over the limit of {COORDINATE.value:.3g} "
                    f"(set {COORDINATE.env} to change it)")


def check_number(value: float | int, name: str, lo: float, hi: float | Limit, *, lo_open: bool = False,
                 hi_open: bool = False) -> None:
    """Refuse an option outside ``[lo, hi]`` (``(lo, hi)`` ends with ``lo_open`` / ``hi_open``), NaN or infinite.

    ``hi`` may be a :class:`Limit`; its message then names the variable that raises it.
    """
    top = hi.value if isinstance(hi, Limit) else hi
    v = float(value)
    below = v <= lo if lo_open else v < lo
    above = v >= top if hi_open else v > top
    if math.isnan(v) or math.isinf(v) or below or above:
        lb, rb = "(" if lo_open else "[", ")" if hi_open else "]"
        extra = f" (set {hi.env} to raise the upper bound)" if isinstance(hi, Limit) and above else ""
        raise InputError(f"{name} must be in {lb}{_fmt(lo)}, {_fmt(top)}{rb}, got {value}{extra}")
