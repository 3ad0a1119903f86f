"""The rifle family: assault rifles, carbines, sniper and hunting rifles. Long axis Z, muzzle to +Z, +Y up.

The receiver spans ``z in [0, rl]`` around ``y = 0``; the barrel runs forward from it, the stock backward.
"""

from __future__ import annotations

import numpy as np
from manifold3d import Manifold

from lift3d.data.shapes.parts import beam, group, plate_yz
from lift3d.data.shapes.primitives import box, cylinder, sphere, tube

EPS = 0.004


def _stock(rng: np.random.Generator, kind: str, rh: float, rw: float, sl: float) -> Manifold:
    """The butt stock behind the receiver: solid wooden/polymer profile, skeleton, or tube with a butt pad."""
    drop = rng.uniform(0.0, 0.04)
    butt_h = rng.uniform(0.1, 0.17)
    yt = rh / 2 - drop
    if kind == "carbine" and rng.random() < 0.7:  # buffer tube and an adjustable stock block
        tube_r = rng.uniform(0.013, 0.02)
        parts = [cylinder(tube_r, sl * 0.8, (0, rh * 0.15, -sl * 0.4 + EPS), axis="z")]
        parts.append(Manifold.batch_hull([box((rw * 0.9, butt_h * 0.5, 0.02), (0, rh * 0.15, -sl * 0.55)),
                                          box((rw * 0.9, butt_h, 0.02), (0, yt - butt_h / 2 + 0.02, -sl))]))
        return group(parts)
    if kind == "sniper" and rng.random() < 0.5:  # skeleton stock with a thumbhole look: top bar + bottom bar + pad
        bar = rng.uniform(0.02, 0.035)
        return group([
            beam((0, rh * 0.3, EPS), (0, yt - bar / 2, -sl), (rw * 0.8, bar, bar)),
            beam((0, -rh / 2, -0.06), (0, yt - butt_h + bar / 2, -sl), (rw * 0.8, bar, bar)),
            box((rw * 0.9, butt_h, 0.03), (0, yt - butt_h / 2, -sl)),
            box((rw * 0.8, rh * 0.6, 0.06), (0, 0, -0.02)),
        ])
    wrist = rng.uniform(0.03, 0.06)
    poly = [(0.02, rh / 2 - 0.005), (-sl, yt), (-sl, yt - butt_h), (-sl * 0.45, -rh / 2 - wrist * 0.4),
            (-0.03, -rh / 2 + 0.01), (0.02, -rh / 2 + 0.01)]
    return plate_yz(poly, rw * rng.uniform(0.75, 1.0))


def rifle(rng: np.random.Generator) -> list[Manifold]:
    """A random rifle: receiver, barrel, stock, grip, trigger guard, magazine, sights or scope, maybe a bipod."""
    kind = str(rng.choice(["assault", "carbine", "sniper", "hunting"]))
    rl = rng.uniform(0.18, 0.32)
    rh = rng.uniform(0.05, 0.085)
    rw = rng.uniform(0.025, 0.04)
    bl = {"assault": rng.uniform(0.3, 0.5), "carbine": rng.uniform(0.2, 0.35),
          "sniper": rng.uniform(0.5, 0.8), "hunting": rng.uniform(0.45, 0.7)}[kind]
    br = rng.uniform(0.007, 0.013) * (1.3 if kind == "sniper" else 1.0)
    sl = rng.uniform(0.2, 0.4)
    by = rh * rng.uniform(0.0, 0.25)
    parts = [box((rw, rh, rl), (0, 0, rl / 2))]
    parts.append(cylinder(br, bl + EPS, (0, by, rl + bl / 2 - EPS / 2), axis="z"))
    parts.append(_stock(rng, kind, rh, rw, sl))
    if kind == "hunting":  # forend of the wooden stock under the barrel
        fl = bl * rng.uniform(0.4, 0.7)
        fh = rng.uniform(0.035, 0.06)
        parts.append(plate_yz([(0, -rh / 2), (rl + fl, by - fh * 0.6), (rl + fl, by + br * 0.5), (0, by + br * 0.5)],
                              rw * 0.9))
    else:  # handguard around the barrel
        hl = bl * rng.uniform(0.3, 0.7)
        hs = rng.uniform(0.035, 0.06)
        if rng.random() < 0.5:
            parts.append(cylinder(hs / 2, hl, (0, by, rl + hl / 2 - EPS), axis="z", segments=16))
        else:
            parts.append(box((hs * 0.9, hs, hl), (0, by - hs * 0.1, rl + hl / 2 - EPS)))
    gz = rl * rng.uniform(0.2, 0.45)  # trigger position
    if kind != "hunting":  # pistol grip
        gh = rng.uniform(0.08, 0.12)
        rake = rng.uniform(0.02, 0.05)
        parts.append(Manifold.batch_hull([box((rw * 0.9, 0.01, 0.035), (0, -rh / 2 + EPS, gz - 0.02)),
                                          box((rw * 0.9, 0.01, 0.03), (0, -rh / 2 - gh, gz - 0.02 - rake))]))
    gd = rng.uniform(0.025, 0.04)
    parts.append(tube([(0, -rh / 2, gz), (0, -rh / 2 - gd, gz + 0.005), (0, -rh / 2 - gd, gz + 0.06),
                       (0, -rh / 2, gz + 0.075)], 0.004, segments=8))
    mz = gz + 0.085
    if kind in ("assault", "carbine"):  # curved or straight box magazine
        ml = rng.uniform(0.1, 0.25)
        md = rng.uniform(0.03, 0.045)
        curve = rng.uniform(0.0, 0.08)
        a = box((rw * 0.8, 0.01, md), (0, -rh / 2 + EPS, mz + md / 2))
        b = box((rw * 0.8, 0.01, md), (0, -rh / 2 - ml * 0.5, mz + md / 2 + curve * 0.3))
        c = box((rw * 0.8, 0.01, md), (0, -rh / 2 - ml, mz + md / 2 + curve))
        parts.append(group([Manifold.batch_hull([a, b]), Manifold.batch_hull([b, c])]))
    elif rng.random() < 0.6:  # short detachable box magazine
        parts.append(box((rw * 0.8, rng.uniform(0.03, 0.07), rng.uniform(0.06, 0.1)),
                         (0, -rh / 2 - 0.015, mz + 0.04)))
    top = rh / 2
    if kind == "sniper" or (kind == "hunting" and rng.random() < 0.7) or rng.random() < 0.3:
        sr = rng.uniform(0.013, 0.022)
        sl_ = rng.uniform(0.18, 0.35)
        sy = top + rng.uniform(0.025, 0.045)
        sz = rl * 0.5 + rng.uniform(-0.03, 0.08)
        body = cylinder(sr, sl_, (0, sy, sz), axis="z", segments=16)
        obj = cylinder(sr, sl_ * 0.25, (0, sy, sz + sl_ * 0.5), axis="z", radius_top=sr * rng.uniform(1.2, 1.7))
        eye = cylinder(sr * 1.25, sl_ * 0.15, (0, sy, sz - sl_ * 0.5), axis="z", radius_top=sr)
        mounts = [box((sr * 1.2, sy - top + EPS, 0.02), (0, (sy + top) / 2, sz + k * sl_ * 0.25)) for k in (-1, 1)]
        parts += [group([body, obj, eye]), group(mounts)]
    else:  # iron sights: rear block on the receiver, front post near the muzzle
        parts.append(group([box((rw * 0.7, 0.03, 0.04), (0, top + 0.015 - EPS, rl * 0.8)),
                            box((0.008, 0.045, 0.012), (0, by + 0.0225, rl + bl * 0.85))]))
    if kind == "sniper" or kind == "hunting":  # bolt handle sticking out to +X
        parts.append(tube([(rw / 2 - EPS, rh * 0.2, rl * 0.7), (rw / 2 + 0.04, rh * 0.1 - 0.02, rl * 0.68)], 0.005))
        parts.append(sphere(0.01, (rw / 2 + 0.04, rh * 0.1 - 0.02, rl * 0.68)))
    if rng.random() < 0.5:  # muzzle brake / flash hider / suppressor
        ml = rng.uniform(0.03, 0.2)
        parts.append(cylinder(br * rng.uniform(1.3, 2.5), ml, (0, by, rl + bl + ml / 2 - EPS), axis="z", segments=16))
    if (kind == "sniper" and rng.random() < 0.7) or (kind == "assault" and rng.random() < 0.15):
        bz = rl + bl * rng.uniform(0.35, 0.6)
        leg = rng.uniform(0.12, 0.22)
        legs = [tube([(0, by - br, bz), (sx * leg * 0.35, by - br - leg, bz + leg * 0.3)], 0.006, segments=8)
                for sx in (-1, 1)]
        parts.append(group(legs))
    return parts
