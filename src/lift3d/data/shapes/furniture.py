"""Furniture families: chair, table, sofa/bench, cabinet/shelf. Front faces +Z, +Y up, units ~ metres."""

from __future__ import annotations

import numpy as np
from manifold3d import Manifold

from lift3d.data.shapes.primitives import box, cylinder


def _legs(
    rng: np.random.Generator,
    width: float,
    depth: float,
    height: float,
    top_y: float,
    inset: float,
    round_legs: bool,
    thick: float,
    splay: float = 0.0,
) -> list[Manifold]:
    """Four legs under a rectangle ``width x depth`` ending at ``top_y``, with optional outward splay."""
    legs = []
    for sx in (-1, 1):
        for sz in (-1, 1):
            x, z = sx * (width / 2 - inset), sz * (depth / 2 - inset)
            if splay > 0:  # a slanted leg: a hull of two thin slabs
                top = box((thick, 0.01, thick), (x, top_y - 0.005, z))
                foot = box((thick, 0.01, thick), (x + sx * splay, top_y - height + 0.005, z + sz * splay))
                legs.append(Manifold.batch_hull([top, foot]))
            elif round_legs:
                legs.append(cylinder(thick / 2, height, (x, top_y - height / 2, z)))
            else:
                legs.append(box((thick, height, thick), (x, top_y - height / 2, z)))
    return legs


def chair(rng: np.random.Generator) -> list[Manifold]:
    w, d = rng.uniform(0.4, 0.6), rng.uniform(0.4, 0.6)
    seat_h, seat_t = rng.uniform(0.38, 0.5), rng.uniform(0.03, 0.08)
    back_h = rng.uniform(0.3, 0.6)
    leg_t = rng.uniform(0.03, 0.06)
    parts = [box((w, seat_t, d), (0, seat_h, 0))]
    base = rng.choice(["legs", "legs", "splayed", "pedestal"])
    if base == "pedestal":
        parts.append(cylinder(rng.uniform(0.025, 0.05), seat_h, (0, seat_h / 2, 0)))
        for a in np.linspace(0, 2 * np.pi, int(rng.integers(4, 6)), endpoint=False):
            r = rng.uniform(0.22, 0.3)
            parts.append(
                Manifold.batch_hull(
                    [
                        box((0.04, 0.04, 0.04), (0, 0.03, 0)),
                        box((0.04, 0.04, 0.04), (r * np.cos(a), 0.02, r * np.sin(a))),
                    ]
                )
            )
    else:
        splay = rng.uniform(0.02, 0.06) if base == "splayed" else 0.0
        parts += _legs(
            rng, w, d, seat_h - seat_t / 2, seat_h - seat_t / 2, leg_t, bool(rng.random() < 0.4), leg_t, splay
        )
    back_t = rng.uniform(0.03, 0.06)
    z_back = -d / 2 + back_t / 2
    y0 = seat_h + seat_t / 2
    tilt = rng.uniform(0.0, 0.12)
    if rng.random() < 0.55:  # solid back panel, maybe tilted
        lo = box((w, 0.01, back_t), (0, y0, z_back))
        hi = box((w * rng.uniform(0.8, 1.0), 0.01, back_t), (0, y0 + back_h, z_back - tilt))
        parts.append(Manifold.batch_hull([lo, hi]))
    else:  # posts + slats
        for sx in (-1, 1):
            parts.append(box((back_t, back_h, back_t), (sx * (w / 2 - back_t / 2), y0 + back_h / 2, z_back)))
        n = int(rng.integers(1, 5))
        for k in range(n):
            y = y0 + back_h * (0.35 + 0.6 * (k + 1) / (n + 1)) if n > 1 else y0 + back_h * 0.85
            parts.append(box((w, rng.uniform(0.04, 0.09), back_t * 0.8), (0, y, z_back)))
    if rng.random() < 0.35:  # arms
        arm_h = rng.uniform(0.18, 0.28)
        for sx in (-1, 1):
            x = sx * (w / 2 - 0.02)
            parts.append(box((0.04, 0.04, d * 0.9), (x, y0 + arm_h, 0)))
            parts.append(box((0.04, arm_h, 0.04), (x, y0 + arm_h / 2, d * 0.35)))
    return parts


def table(rng: np.random.Generator) -> list[Manifold]:
    h = rng.uniform(0.45, 0.8)
    t = rng.uniform(0.03, 0.07)
    round_top = rng.random() < 0.35
    w = rng.uniform(0.6, 1.6)
    d = w if round_top else rng.uniform(0.5, 1.0)
    top_y = h - t / 2
    parts = [cylinder(w / 2, t, (0, top_y, 0)) if round_top else box((w, t, d), (0, top_y, 0))]
    base = rng.choice(["legs", "legs", "pedestal", "trestle"])
    if base == "pedestal" or (round_top and base == "trestle"):
        parts.append(cylinder(rng.uniform(0.04, 0.09), h - t, (0, (h - t) / 2, 0)))
        parts.append(cylinder(rng.uniform(0.18, 0.3) * max(w, 0.8), rng.uniform(0.03, 0.06), (0, 0.02, 0)))
    elif base == "trestle":
        for sx in (-1, 1):
            parts.append(box((rng.uniform(0.04, 0.08), h - t, d * 0.8), (sx * w * 0.38, (h - t) / 2, 0)))
        parts.append(box((w * 0.76, 0.06, 0.05), (0, rng.uniform(0.1, 0.3), 0)))
    else:
        leg = rng.uniform(0.04, 0.08)
        inset = leg / 2 + rng.uniform(0.0, 0.08)
        ww, dd = (w * 0.7, d * 0.7) if round_top else (w, d)
        parts += _legs(rng, ww, dd, h - t, h - t, inset, bool(rng.random() < 0.4), leg)
        if rng.random() < 0.4:  # apron / lower shelf
            parts.append(box((ww - 2 * inset, 0.03, dd - 2 * inset), (0, rng.uniform(0.1, 0.25), 0)))
    return parts


def sofa(rng: np.random.Generator) -> list[Manifold]:
    w = rng.uniform(1.2, 2.2)
    d = rng.uniform(0.5, 0.9)
    seat_h = rng.uniform(0.3, 0.45)
    if rng.random() < 0.3:  # bench: slab on legs or blocks, no back
        t = rng.uniform(0.04, 0.1)
        parts = [box((w, t, d * 0.6), (0, seat_h, 0))]
        if rng.random() < 0.5:
            parts += _legs(rng, w, d * 0.6, seat_h - t / 2, seat_h - t / 2, 0.06, False, rng.uniform(0.04, 0.07))
        else:
            for sx in (-1, 1):
                parts.append(box((0.08, seat_h - t / 2, d * 0.6), (sx * (w / 2 - 0.1), (seat_h - t / 2) / 2, 0)))
        return parts
    base_h = seat_h - rng.uniform(0.06, 0.12)
    leg_h = rng.uniform(0.0, 0.12)
    parts = [box((w, base_h - leg_h, d), (0, leg_h + (base_h - leg_h) / 2, 0))]
    n_cush = int(rng.integers(1, 4))
    cw = w / n_cush
    for k in range(n_cush):
        parts.append(
            box(
                (cw * 0.97, seat_h - base_h + 0.01, d * 0.85),
                (-w / 2 + cw * (k + 0.5), (seat_h + base_h) / 2, d * 0.07),
            )
        )
    back_h = rng.uniform(0.3, 0.55)
    back_t = rng.uniform(0.12, 0.22)
    parts.append(
        box((w, back_h + seat_h - leg_h, back_t), (0, leg_h + (back_h + seat_h - leg_h) / 2, -d / 2 + back_t / 2))
    )
    arm_w, arm_h = rng.uniform(0.08, 0.2), rng.uniform(0.12, 0.28)
    for sx in (-1, 1):
        parts.append(
            box((arm_w, seat_h + arm_h - leg_h, d), (sx * (w / 2 + arm_w / 2), leg_h + (seat_h + arm_h - leg_h) / 2, 0))
        )
    if leg_h > 0.03:
        parts += _legs(rng, w + 2 * arm_w, d, leg_h + 0.01, leg_h + 0.01, 0.06, bool(rng.random() < 0.5), 0.05)
    return parts


def cabinet(rng: np.random.Generator) -> list[Manifold]:
    w, h, d = rng.uniform(0.4, 1.2), rng.uniform(0.5, 1.9), rng.uniform(0.25, 0.55)
    t = rng.uniform(0.02, 0.04)
    leg_h = rng.uniform(0.05, 0.15) if rng.random() < 0.4 else 0.0
    y0 = leg_h
    parts = [box((t, h, d), (sx * (w / 2 - t / 2), y0 + h / 2, 0)) for sx in (-1, 1)]
    parts += [
        box((w, t, d), (0, y0 + t / 2, 0)),
        box((w, t, d), (0, y0 + h - t / 2, 0)),
        box((w, h, t), (0, y0 + h / 2, -d / 2 + t / 2)),
    ]
    n = int(rng.integers(1, 6))
    for k in range(1, n):
        parts.append(box((w - 2 * t, t, d - t), (0, y0 + h * k / n, t / 2)))
    if rng.random() < 0.5:  # closed cabinet: doors with handles
        n_doors = int(rng.integers(1, 3))
        dw = w / n_doors
        for k in range(n_doors):
            x = -w / 2 + dw * (k + 0.5)
            parts.append(box((dw * 0.98, h * 0.98, t), (x, y0 + h / 2, d / 2 - t / 2)))
            hx = x + (dw * 0.35 if k == 0 else -dw * 0.35)
            parts.append(box((0.02, min(0.15, h * 0.2), 0.03), (hx, y0 + h * 0.55, d / 2 + 0.015)))
    if leg_h > 0:
        parts += _legs(rng, w, d, leg_h + 0.01, leg_h + 0.01, 0.04, bool(rng.random() < 0.5), 0.04)
    return parts
