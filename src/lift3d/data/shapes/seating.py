"""The bench family: park benches, backless slab benches, panel benches, piano benches, settees with arms.

Length along X (0.8-2.0 m), the sitter faces +Z, +Y up. Touching parts overlap by ``EPS`` so they fuse.
"""

from __future__ import annotations

import numpy as np
from manifold3d import Manifold

from lift3d.data.shapes.furniture import _legs
from lift3d.data.shapes.parts import beam, group
from lift3d.data.shapes.primitives import box, cylinder, tube

EPS = 0.006


def _frame(x: float, pts: dict, round_frame: bool, t: float, w: float) -> Manifold:
    """One side frame of a park bench in the plane ``x``: front leg, seat rail, back leg and back post."""
    p = {k: (x, y, z) for k, (z, y) in pts.items()}
    if round_frame:  # bent metal tube
        main = tube([p["front_foot"], p["seat_front"], p["seat_back"], p["back_top"]], t / 2)
        return group([main, tube([p["rear_foot"], p["seat_back"]], t / 2)])
    size = (t, w, w)
    bars = [
        beam(p["front_foot"], p["seat_front"], size),
        beam(p["seat_front"], p["seat_back"], size),
        beam(p["rear_foot"], p["seat_back"], size),
        beam(p["seat_back"], p["back_top"], size),
    ]
    return group(bars)


def _park(rng: np.random.Generator, length: float, depth: float, seat_h: float) -> list[Manifold]:
    """Slatted seat (and usually a slatted back) on 2-3 cast or tubular side frames, optional armrests."""
    round_frame = bool(rng.random() < 0.4)
    ft = rng.uniform(0.025, 0.045) if round_frame else rng.uniform(0.03, 0.06)
    fw = rng.uniform(0.04, 0.08)
    has_back = rng.random() < 0.85
    back_h = rng.uniform(0.3, 0.5) if has_back else 0.0
    lean = rng.uniform(0.03, 0.15)
    rail_y = seat_h - rng.uniform(0.03, 0.05)
    pts = {
        "front_foot": (depth / 2 - rng.uniform(0.0, 0.08), ft / 2),
        "seat_front": (depth / 2 - 0.03, rail_y),
        "seat_back": (-depth / 2 + 0.03, rail_y),
        "rear_foot": (-depth / 2 - rng.uniform(0.0, 0.1), ft / 2),
        "back_top": (-depth / 2 - lean, rail_y + (back_h if has_back else 0.02)),
    }
    inset = rng.uniform(0.05, 0.2)
    xs = [-(length / 2 - inset), length / 2 - inset] + ([0.0] if length > 1.4 and rng.random() < 0.6 else [])
    parts = [_frame(x, pts, round_frame, ft, fw) for x in xs]
    n = int(rng.integers(3, 8))
    st = rng.uniform(0.02, 0.04)
    gap = rng.uniform(0.005, 0.03)
    sw = (depth - (n - 1) * gap) / n
    half = ft / 2 if round_frame else fw / 2  # the rail's half height: the slats rest on it
    slats = [box((length, st, sw), (0, rail_y + st / 2 + half - EPS, -depth / 2 + sw / 2 + k * (sw + gap)))
             for k in range(n)]
    parts.insert(0, group(slats))
    if has_back:
        m = int(rng.integers(2, 6))
        bw = back_h * rng.uniform(0.5, 0.8) / m
        for_z = half + st / 2 - EPS
        back = []
        for k in range(m):
            f0, f1 = 0.3 + 0.65 * k / m, 0.3 + 0.65 * (k + 0.8) / m
            a = (0, rail_y + back_h * f0, -depth / 2 + 0.03 - (lean + 0.03) * f0 + for_z)  # on the post line
            b = (0, rail_y + back_h * f1, -depth / 2 + 0.03 - (lean + 0.03) * f1 + for_z)
            back.append(beam(a, b, (length, min(bw * 0.3, 0.02), st)))
        parts.append(group(back))
    if rng.random() < 0.4:  # armrests on the end frames
        arm_y = rail_y + rng.uniform(0.18, 0.28)
        z0, z1 = depth / 2 - 0.03, -depth / 2 + 0.03 - lean * 0.5
        for x in xs[:2]:
            if round_frame:
                parts.append(tube([(x, rail_y, z0), (x, arm_y, z0), (x, arm_y, z1)], ft / 2))
            else:
                parts.append(group([beam((x, rail_y, z0), (x, arm_y, z0), (ft, fw, fw)),
                                    beam((x, arm_y, z0 + 0.03), (x, arm_y, z1), (ft * 1.3, fw * 0.6, fw))]))
    return parts


def _slab(rng: np.random.Generator, length: float, depth: float, seat_h: float) -> list[Manifold]:
    """A flat backless bench: a slab on four (thin metal or wooden) legs, on A-frames, or on two side panels."""
    t = rng.uniform(0.03, 0.09)
    parts = [box((length, t, depth), (0, seat_h - t / 2, 0))]
    top = seat_h - t + EPS
    support = rng.choice(["legs", "legs", "aframe", "panels"])
    if support == "legs":
        metal = bool(rng.random() < 0.5)
        thick = rng.uniform(0.015, 0.03) if metal else rng.uniform(0.04, 0.08)
        inset = thick / 2 + rng.uniform(0.0, 0.12)
        splay = rng.uniform(0.0, 0.05) if rng.random() < 0.4 else 0.0
        parts += _legs(rng, length, depth, top, top, inset, metal or bool(rng.random() < 0.4), thick, splay)
        if splay == 0.0 and rng.random() < 0.4:  # lower shelf, or two stretchers joining the legs
            y, span = rng.uniform(0.08, 0.2), length - 2 * inset + thick - EPS
            if rng.random() < 0.5:
                parts.append(box((span, 0.025, depth - 2 * inset + thick - EPS), (0, y, 0)))
            else:
                parts.append(group([box((span, 0.025, thick * 0.8), (0, y, sz * (depth / 2 - inset)))
                                    for sz in (-1, 1)]))
    elif support == "aframe":
        bt = rng.uniform(0.03, 0.06)
        foot = depth / 2 + rng.uniform(0.0, 0.06)
        inset = rng.uniform(0.06, 0.2)
        for sx in (-1, 1):
            x = sx * (length / 2 - inset)
            parts.append(group([beam((x, top, 0), (x, bt / 2, sz * foot), (bt, bt, bt)) for sz in (-1, 1)]
                               + [box((bt, bt, 2 * foot * 0.6), (x, seat_h * 0.35, 0))]))
    else:
        parts += _panels(rng, length, depth, top)
    return parts


def _panels(rng: np.random.Generator, length: float, depth: float, top: float) -> list[Manifold]:
    """Two solid side panels (flush or inset, sometimes with a cut-out arch look) and an optional shelf."""
    pt = rng.uniform(0.03, 0.08)
    inset = 0.0 if rng.random() < 0.4 else rng.uniform(0.05, 0.2)
    pd = depth * rng.uniform(0.75, 1.0)
    out = []
    for sx in (-1, 1):
        x = sx * (length / 2 - inset - pt / 2)
        if rng.random() < 0.5:  # two feet joined under the seat: an inverted U seen from the side
            out.append(group([box((pt, top, pd * 0.25), (x, top / 2, sz * pd * 0.375)) for sz in (-1, 1)]
                             + [box((pt, top * 0.25, pd), (x, top * 0.875, 0))]))
        else:
            out.append(box((pt, top, pd), (x, top / 2, 0)))
    if rng.random() < 0.35:
        out.append(box((length - 2 * inset - pt, 0.025, pd * 0.9), (0, top * rng.uniform(0.2, 0.4), 0)))
    return out


def _piano(rng: np.random.Generator, length: float, depth: float, seat_h: float) -> list[Manifold]:
    """Piano / vanity bench: padded top, storage apron box and four (often tapered) legs."""
    t = rng.uniform(0.04, 0.1)
    parts = [box((length, t, depth), (0, seat_h - t / 2, 0))]
    apron_h = rng.uniform(0.04, 0.12)
    ai = rng.uniform(0.0, 0.03)
    y_apron = seat_h - t - apron_h / 2 + EPS
    parts.append(box((length - 2 * ai, apron_h, depth - 2 * ai), (0, y_apron, 0)))
    leg_top = seat_h - t - apron_h + 2 * EPS
    r = rng.uniform(0.02, 0.035)
    taper = rng.uniform(0.5, 1.0)
    square = rng.random() < 0.3
    for sx in (-1, 1):
        for sz in (-1, 1):
            c = (sx * (length / 2 - ai - r), leg_top / 2, sz * (depth / 2 - ai - r))
            parts.append(box((2 * r, leg_top, 2 * r), c) if square else cylinder(r * taper, leg_top, c, radius_top=r))
    return parts


def _settee(rng: np.random.Generator, length: float, depth: float, seat_h: float) -> list[Manifold]:
    """Bench with a solid (or slatted) back and arms: a hall / entryway / garden bench."""
    t = rng.uniform(0.04, 0.08)
    parts = [box((length, t, depth), (0, seat_h - t / 2, 0))]
    arm_h = seat_h + rng.uniform(0.15, 0.3)
    at = rng.uniform(0.04, 0.1)
    solid_arms = rng.random() < 0.5
    for sx in (-1, 1):
        x = sx * (length / 2 + at / 2 - EPS)
        if solid_arms:
            parts.append(box((at, arm_h, depth), (x, arm_h / 2, 0)))
        else:  # front/back posts carrying an arm rail
            posts = [box((at, arm_h, at), (x, arm_h / 2, sz * (depth / 2 - at / 2))) for sz in (-1, 1)]
            parts.append(group(posts + [box((at, 0.04, depth + 0.04), (x, arm_h - 0.02, 0.02))]))
    back_h = rng.uniform(0.25, 0.5)
    bt = rng.uniform(0.03, 0.06)
    y0 = seat_h - EPS
    if rng.random() < 0.6:
        lo = box((length, 0.01, bt), (0, y0, -depth / 2 + bt / 2))
        hi = box((length, 0.01, bt), (0, y0 + back_h, -depth / 2 + bt / 2 - rng.uniform(0.0, 0.1)))
        parts.append(Manifold.batch_hull([lo, hi]))
    else:
        n = int(rng.integers(5, 14))
        xs = np.linspace(-length / 2 + 0.05, length / 2 - 0.05, n)
        spindles = [box((0.025, back_h, 0.025), (x, y0 + back_h / 2, -depth / 2 + bt / 2)) for x in xs]
        parts.append(group(spindles + [box((length, 0.05, bt), (0, y0 + back_h, -depth / 2 + bt / 2))]))
    if not solid_arms:
        top = seat_h - t + EPS
        parts += _legs(rng, length, depth, top, top, at / 2, False, at)
    if rng.random() < 0.3:  # lower shelf (shoe rack)
        parts.append(box((length, 0.025, depth * 0.9), (0, rng.uniform(0.06, 0.15), 0)))
    return parts


def bench(rng: np.random.Generator) -> list[Manifold]:
    """A random bench: park (slatted, on frames), flat backless, piano, or settee with back and arms."""
    kind = rng.choice(["park", "park", "slab", "slab", "piano", "settee"])
    length = rng.uniform(0.6, 1.0) if kind == "piano" else rng.uniform(0.8, 2.0)
    depth = rng.uniform(0.3, 0.4) if kind == "piano" else rng.uniform(0.3, 0.6)
    seat_h = rng.uniform(0.38, 0.52)
    builder = {"park": _park, "slab": _slab, "piano": _piano, "settee": _settee}[str(kind)]
    return builder(rng, length, depth, seat_h)
