"""The "composite" family: random CSG unions and differences of primitives."""

from __future__ import annotations

import numpy as np
from manifold3d import Manifold

from lift3d.data.shapes.primitives import box, cylinder, sphere


def _random_primitive(rng: np.random.Generator, scale: float) -> Manifold:
    kind = rng.choice(["box", "sphere", "cylinder", "cone"])
    c = rng.uniform(-0.35, 0.35, 3) * scale
    s = rng.uniform(0.2, 0.6, 3) * scale
    if kind == "box":
        m = box(s, (0, 0, 0)).rotate(tuple(rng.uniform(-45, 45, 3)))
    elif kind == "sphere":
        m = sphere(1.0, (0, 0, 0), scale=tuple(s / 2))
    else:
        top = s[0] / 2 if kind == "cylinder" else s[0] * rng.uniform(0.0, 0.2)
        m = cylinder(s[0] / 2, s[1], (0, 0, 0), axis=str(rng.choice(["x", "y", "z"])), radius_top=top)
    return m.translate(tuple(c))


def composite(rng: np.random.Generator) -> tuple[list[Manifold], list[Manifold]]:
    """3-6 primitives unioned, minus 0-2 others (only cuts that keep most of the solid)."""
    parts = [_random_primitive(rng, 1.0) for _ in range(int(rng.integers(3, 7)))]
    cuts = [_random_primitive(rng, 0.8) for _ in range(int(rng.integers(0, 3)))]
    return parts, cuts
