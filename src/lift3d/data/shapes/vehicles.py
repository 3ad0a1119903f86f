"""Vehicle families: airplane (nose to +Z) and car (drives along +Z)."""

from __future__ import annotations

import numpy as np
from manifold3d import Manifold

from lift3d.data.shapes.primitives import box, cylinder, extrude_xy, extrude_xz, sphere


def airplane(rng: np.random.Generator) -> list[Manifold]:
    length = rng.uniform(1.5, 2.5)
    fr = length * rng.uniform(0.04, 0.07)
    parts = [sphere(1.0, (0, 0, 0), scale=(fr, fr, length / 2))]
    span = length * rng.uniform(0.7, 1.3)
    chord = length * rng.uniform(0.12, 0.25)
    sweep = chord * rng.uniform(0.0, 1.5)
    taper = rng.uniform(0.3, 0.8)
    z_w = length * rng.uniform(-0.05, 0.15)
    y_w = fr * rng.uniform(-0.6, 0.5)
    t = fr * 0.35
    for sx in (-1, 1):
        tip_x = sx * span / 2
        poly = [
            (0, z_w + chord / 2),
            (tip_x, z_w + chord / 2 - sweep),
            (tip_x, z_w + chord / 2 - sweep - chord * taper),
            (0, z_w - chord / 2),
        ]
        parts.append(extrude_xz(poly, t, y_w))
        if rng.random() < 0.6:  # engines under the wing
            for frac in (0.35,) if rng.random() < 0.6 else (0.3, 0.6):
                x = tip_x * frac
                z = z_w + chord / 2 - sweep * frac
                parts.append(cylinder(fr * 0.4, chord * 0.9, (x, y_w - fr * 0.5, z), axis="z"))
    # tail: vertical fin + horizontal stabiliser
    tail_z = -length / 2 + chord * 0.2
    fin_h = length * rng.uniform(0.12, 0.22)
    fin = [
        (tail_z - chord * 0.3, 0),
        (tail_z + chord * 0.5, 0),
        (tail_z - chord * 0.1, fin_h),
        (tail_z - chord * 0.4, fin_h),
    ]
    parts.append(_fin(fin, t))
    stab = span * rng.uniform(0.25, 0.4)
    y_s = fin_h * 0.95 if rng.random() < 0.3 else 0.0
    for sx in (-1, 1):
        poly = [
            (0, tail_z + chord * 0.35),
            (sx * stab / 2, tail_z),
            (sx * stab / 2, tail_z - chord * 0.25),
            (0, tail_z - chord * 0.3),
        ]
        parts.append(extrude_xz(poly, t, y_s))
    return parts


def _fin(poly_zy, thickness: float) -> Manifold:
    """A vertical plate in the YZ plane (points given as (z, y)), centred on x = 0."""
    m = extrude_xy([(z, y) for z, y in poly_zy], thickness, 0.0)  # built in XY, then turned so X -> Z
    return m.rotate((0.0, -90.0, 0.0))


def car(rng: np.random.Generator) -> list[Manifold]:
    length = rng.uniform(3.5, 5.0)
    width = length * rng.uniform(0.38, 0.46)
    body_h = length * rng.uniform(0.1, 0.16)
    clearance = rng.uniform(0.12, 0.25)
    wheel_r = rng.uniform(0.28, 0.4)
    y_body = clearance + body_h / 2 + wheel_r * 0.4
    nose = rng.uniform(0.0, 0.15) * length
    body = Manifold.batch_hull(
        [
            box((width, body_h, length - nose), (0, y_body, -nose / 2)),
            box((width * 0.95, body_h * 0.6, length), (0, y_body - body_h * 0.2, 0)),
        ]
    )
    parts = [body]
    kind = rng.choice(["sedan", "hatch", "suv", "pickup"])
    cab_len = length * {"sedan": 0.45, "hatch": 0.5, "suv": 0.6, "pickup": 0.3}[kind] * rng.uniform(0.9, 1.1)
    cab_h = body_h * rng.uniform(0.7, 1.1) * (1.2 if kind == "suv" else 1.0)
    cab_z = {"sedan": -0.05, "hatch": -0.12, "suv": -0.1, "pickup": 0.1}[kind] * length
    top = box((width * 0.8, 0.02, cab_len * rng.uniform(0.5, 0.8)), (0, y_body + body_h / 2 + cab_h, cab_z))
    bottom = box((width * 0.92, 0.02, cab_len), (0, y_body + body_h / 2, cab_z))
    parts.append(Manifold.batch_hull([top, bottom]))
    wb = length * rng.uniform(0.3, 0.36)
    for sz in (-1, 1):
        for sx in (-1, 1):
            parts.append(cylinder(wheel_r, width * 0.16, (sx * width * 0.45, wheel_r, sz * wb), axis="x"))
    if rng.random() < 0.3:  # spoiler
        parts.append(box((width * 0.9, 0.04, 0.25), (0, y_body + body_h / 2 + 0.15, -length / 2 + 0.2)))
    return parts
