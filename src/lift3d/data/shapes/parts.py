"""Compound building blocks shared by the newer families: slanted beams, side plates, rounded slabs, groups."""

from __future__ import annotations

from manifold3d import Manifold, OpType

from lift3d.data.shapes.primitives import box, cylinder, extrude_xy


def group(pieces: list[Manifold]) -> Manifold:
    """Union several pieces into one part (one part id), e.g. all slats of a seat."""
    return pieces[0] if len(pieces) == 1 else Manifold.batch_boolean(pieces, OpType.Add)


def beam(p0, p1, size) -> Manifold:
    """A straight bar from ``p0`` to ``p1``: the hull of two small boxes of ``size (3,)`` at the ends."""
    return Manifold.batch_hull([box(size, p0), box(size, p1)])


def plate_yz(poly_zy, thickness: float, x: float = 0.0) -> Manifold:
    """A plate in the YZ plane (polygon points given as ``(z, y)``), ``thickness`` along X, centred at ``x``."""
    m = extrude_xy([(float(z), float(y)) for z, y in poly_zy], thickness, 0.0)  # built in XY, X turned to Z
    return m.rotate((0.0, -90.0, 0.0)).translate((float(x), 0.0, 0.0))


def rounded_slab(width: float, height: float, thick: float, radius: float, center=(0.0, 0.0, 0.0),
                 normal: str = "z", segments: int = 16) -> Manifold:
    """A box with rounded edges around ``normal``: ``width`` (X) x ``height`` (Y, or Z when normal='y') x ``thick``.

    It is the hull of four cylinders of ``radius`` at the corners (clamped so the slab stays valid).
    """
    r = max(1e-3, min(radius, width / 2 - 1e-3, height / 2 - 1e-3))
    cx, cy, cz = (float(c) for c in center)
    posts = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            a, b = sx * (width / 2 - r), sy * (height / 2 - r)
            if normal == "z":
                posts.append(cylinder(r, thick, (cx + a, cy + b, cz), axis="z", segments=segments))
            else:  # lying flat: rounded corners seen from above, thickness along Y
                posts.append(cylinder(r, thick, (cx + a, cy, cz + b), axis="y", segments=segments))
    return Manifold.batch_hull(posts)
