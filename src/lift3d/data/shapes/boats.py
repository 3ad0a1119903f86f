"""The watercraft family: ships, sailboats, motor boats, canoes and kayaks. Long axis Z, bow to +Z, +Y up."""

from __future__ import annotations

import numpy as np
from manifold3d import Manifold

from lift3d.data.shapes.parts import group, plate_yz
from lift3d.data.shapes.primitives import box, cylinder, sphere

EPS = 0.01


def _hull(rng: np.random.Generator, length: float, beam: float, depth: float) -> Manifold:
    """A displacement hull: flat deck at ``y = depth``, round bilge, transom at -Z, raked bow at +Z."""
    bow = length * rng.uniform(0.15, 0.35)
    flare = rng.uniform(1.0, 1.15)  # the bow rises above the deck line (sheer)
    z_mid = -bow / 2
    pieces = [
        box((beam, 0.01 * depth, length - bow), (0, depth, z_mid)),
        box((beam * rng.uniform(0.6, 0.95), 0.01 * depth, 0.01), (0, depth * rng.uniform(0.25, 0.6), -length / 2)),
        sphere(1.0, (0, depth * 0.5, z_mid * 0.5), scale=(beam * 0.45, depth * 0.5, (length - bow) * 0.45)),
        box((0.02 * beam, 0.01 * depth, 0.01), (0, depth * flare, length / 2)),
        box((0.02 * beam, 0.01 * depth, 0.01),
            (0, depth * rng.uniform(0.05, 0.4), length / 2 - bow * rng.uniform(0.2, 0.7))),  # forefoot
    ]
    return Manifold.batch_hull(pieces)


def _ship(rng: np.random.Generator) -> list[Manifold]:
    """A ship: long hull, stacked superstructure, funnels, masts; cargo containers or gun turrets."""
    length = rng.uniform(2.0, 4.0)
    beam = length / rng.uniform(5.0, 9.0)
    depth = beam * rng.uniform(0.5, 0.9)
    parts = [_hull(rng, length, beam, depth)]
    tiers = int(rng.integers(1, 4))
    sz = length * rng.uniform(-0.35, 0.15)  # superstructure position (aft or amidships)
    tl = length * rng.uniform(0.12, 0.3)
    th = depth * rng.uniform(0.35, 0.6)
    y = depth - EPS
    blocks = []
    for k in range(tiers):
        f = 1.0 - 0.25 * k
        blocks.append(box((beam * 0.85 * f, th + EPS, tl * f), (0, y + th / 2, sz - 0.05 * k * tl)))
        y += th
    if rng.random() < 0.6:  # bridge wings
        f, zc = 1.0 - 0.25 * (tiers - 1), sz - 0.05 * (tiers - 1) * tl  # the top tier
        blocks.append(box((beam * 1.05, th * 0.4, tl * 0.15), (0, y - th * 0.2, zc + tl * (f / 2 - 0.075))))
    parts.append(group(blocks))
    n_funnel = int(rng.integers(0, 4))
    fr = beam * rng.uniform(0.12, 0.22)
    fh = depth * rng.uniform(0.5, 1.2)
    rake = rng.uniform(0.0, 0.3) * fh
    for k in range(n_funnel):
        fz = sz - tl * 0.6 - k * fr * 2.8 if rng.random() < 0.5 else sz + k * fr * 2.8 - tl * 0.2
        fz = float(np.clip(fz, -length / 2 + 1.5 * fr + rake, length * 0.3))  # on the deck
        base = cylinder(fr, 0.02, (0, depth - EPS, fz), segments=16)  # from the deck: never floats
        top = cylinder(fr * 0.9, 0.02, (0, y + fh, fz - rake), segments=16)
        parts.append(Manifold.batch_hull([base, top]))
    mh = depth * rng.uniform(0.8, 2.0)
    parts.append(cylinder(beam * 0.03, mh, (0, y + mh / 2 - EPS, sz + tl * 0.1), segments=8))
    cargo = rng.choice(["none", "containers", "turrets"])
    if cargo == "containers":
        z0, z1 = sz + tl * 0.6, length / 2 - length * 0.2
        n_rows = max(1, int((z1 - z0) / (beam * 0.5)))
        stacks = []
        for k in range(n_rows):
            hh = depth * rng.uniform(0.2, 0.6)
            zk = z0 + (k + 0.5) * (z1 - z0) / n_rows
            stacks.append(box((beam * 0.8, hh + EPS, beam * 0.45), (0, depth + hh / 2 - EPS, zk)))
        parts.append(group(stacks))
    elif cargo == "turrets":
        for zf in (length * 0.3, sz - tl * 0.9):
            tr = beam * rng.uniform(0.18, 0.3)
            zf = max(zf, -length / 2 + 1.2 * tr)
            d = 1.0 if zf > sz else -1.0
            gun = cylinder(tr * 0.12, tr * 2.5, (0, depth + tr * 0.4, zf + d * tr * 1.6), axis="z", segments=8)
            parts.append(group([cylinder(tr, tr * 0.6, (0, depth + tr * 0.3 - EPS, zf), segments=16), gun]))
    return parts


def _sailboat(rng: np.random.Generator) -> list[Manifold]:
    """A sailing yacht or dinghy: hull, fin keel, rudder, mast, boom, mainsail and jib (thin plates)."""
    length = rng.uniform(0.8, 2.0)
    beam = length / rng.uniform(2.8, 4.0)
    depth = beam * rng.uniform(0.3, 0.6)
    parts = [_hull(rng, length, beam, depth)]
    keel_d = depth * rng.uniform(0.8, 2.0)
    kc = length * rng.uniform(0.15, 0.3)
    parts.append(plate_yz([(kc * 0.6, depth * 0.3), (-kc * 0.6, depth * 0.3), (-kc * 0.5, -keel_d),
                           (kc * 0.1, -keel_d)], beam * 0.06))
    parts.append(plate_yz([(-length / 2 + 0.02, depth * 0.9), (-length / 2 - 0.04, depth * 0.9),
                           (-length / 2 - 0.02, -keel_d * 0.5), (-length / 2 + 0.05, -keel_d * 0.5)], beam * 0.04))
    mz = length * rng.uniform(0.0, 0.2)
    mh = length * rng.uniform(0.9, 1.5)
    mr = length * 0.008
    parts.append(cylinder(mr, mh, (0, depth + mh / 2 - EPS, mz), segments=8))
    boom_y = depth + mh * rng.uniform(0.06, 0.15)
    foot = length * rng.uniform(0.35, 0.55)
    parts.append(cylinder(mr, foot, (0, boom_y, mz - foot / 2), axis="z", segments=8))
    sail_t = length * 0.006
    top = depth + mh * rng.uniform(0.85, 0.98)
    parts.append(plate_yz([(mz - mr * 0.5, boom_y), (mz - foot, boom_y), (mz - mr * 0.5, top)], sail_t))
    if rng.random() < 0.8:  # jib from the masthead area to the bow
        jt = depth + mh * rng.uniform(0.6, 0.9)
        bow = (length / 2 - length * 0.05, depth * 1.02)
        parts.append(plate_yz([(mz + mr * 0.5, jt), (mz + mr * 0.5, depth + mh * 0.1), bow], sail_t))
    if rng.random() < 0.6:  # coach roof / cabin
        parts.append(box((beam * 0.6, depth * 0.4 + EPS, length * 0.3), (0, depth + depth * 0.2, -length * 0.05)))
    return parts


def _motorboat(rng: np.random.Generator) -> list[Manifold]:
    """A motor boat / yacht: planing hull, cabin with a raked windscreen, maybe a flybridge and outboard."""
    length = rng.uniform(0.8, 2.0)
    beam = length / rng.uniform(2.5, 4.0)
    depth = beam * rng.uniform(0.35, 0.7)
    parts = [_hull(rng, length, beam, depth)]
    cl = length * rng.uniform(0.2, 0.5)
    ch = depth * rng.uniform(0.4, 1.1)
    cz = length * rng.uniform(-0.15, 0.1)
    rake = cl * rng.uniform(0.1, 0.45)
    cab = Manifold.batch_hull([box((beam * 0.85, 0.01, cl), (0, depth - EPS, cz)),
                               box((beam * 0.75, 0.01, cl - rake), (0, depth + ch, cz - rake / 2))])
    parts.append(cab)
    if rng.random() < 0.35:  # flybridge with a hardtop
        parts.append(box((beam * 0.7, ch * 0.5, cl * 0.6), (0, depth + ch * 1.25 - EPS, cz - cl * 0.2)))
    if rng.random() < 0.5:  # outboard motor on the transom
        parts.append(group([box((beam * 0.15, depth * 0.8, beam * 0.2), (0, depth * 0.9, -length / 2 - beam * 0.05)),
                            box((beam * 0.06, depth * 0.9, beam * 0.08), (0, depth * 0.2, -length / 2 - beam * 0.08))]))
    return parts


def _paddle_craft(rng: np.random.Generator) -> tuple[list[Manifold], list[Manifold]]:
    """An open canoe (hollow, upswept ends) or a closed kayak with a cockpit rim."""
    length = rng.uniform(1.0, 2.0)
    beam = length / rng.uniform(6.0, 12.0)
    depth = beam * rng.uniform(0.4, 0.7)
    tip = depth * rng.uniform(1.0, 1.5)
    body = sphere(1.0, (0, depth, 0), scale=(beam / 2, depth, length * 0.45), segments=32)
    ends = [box((0.005, 0.005, 0.005), (0, tip, s * length / 2)) for s in (-1, 1)]
    hull = Manifold.batch_hull([body, *ends])
    if rng.random() < 0.5:  # canoe: cut the top off between the ends and hollow it out
        wall = beam * 0.06
        inner = sphere(1.0, (0, depth, 0), scale=(beam / 2 - wall, depth - wall, length * 0.45 - wall), segments=32)
        cut_top = box((beam * 2, depth * 2, length * 0.8), (0, depth * 2, 0))
        thwart = box((beam * 0.95, wall, beam * 0.3), (0, depth - wall, 0))
        return [hull], [inner - thwart, cut_top]
    cockpit_r = beam * rng.uniform(0.3, 0.4)
    cz = length * rng.uniform(-0.1, 0.05)
    rim = cylinder(cockpit_r * 1.2, depth * 0.25, (0, depth * 2 - depth * 0.02, cz), segments=24)
    hole = sphere(1.0, (0, depth * 2, cz), scale=(cockpit_r, depth * 0.8, cockpit_r * 1.8), segments=24)
    return [hull, rim.scale((1.0, 1.0, 1.6)).translate((0, 0, -cz * 0.6))], [hole]


def watercraft(rng: np.random.Generator) -> list[Manifold] | tuple[list[Manifold], list[Manifold]]:
    """A random boat: ship (cargo / warship / liner), sailboat, motor boat, or canoe / kayak."""
    kind = str(rng.choice(["ship", "ship", "sail", "sail", "motor", "paddle"]))
    if kind == "paddle":
        return _paddle_craft(rng)
    return {"ship": _ship, "sail": _sailboat, "motor": _motorboat}[kind](rng)
