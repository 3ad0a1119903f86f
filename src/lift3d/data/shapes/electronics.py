"""Electronics families: display (monitor / TV / CRT) and loudspeaker. Screens and drivers face +Z, +Y up."""

from __future__ import annotations

import numpy as np
from manifold3d import Manifold

from lift3d.data.shapes.parts import beam, group, rounded_slab
from lift3d.data.shapes.primitives import box, cylinder, sphere

EPS = 0.004
ASPECTS = (4 / 3, 5 / 4, 16 / 10, 16 / 9, 16 / 9, 21 / 9)


def _stand(rng: np.random.Generator, kind: str, w: float, h: float, back_z: float, y_bot: float) -> list[Manifold]:
    """The support under a flat panel whose bottom edge is at ``y_bot`` and whose back is at ``back_z``."""
    if kind == "neck":
        nw, nt = rng.uniform(0.04, 0.12), rng.uniform(0.015, 0.04)
        fd = rng.uniform(0.14, 0.26)
        foot_t = rng.uniform(0.01, 0.025)
        nz = back_z - nt / 2 + EPS
        top = (0, y_bot + h * rng.uniform(0.4, 0.6), nz)  # within the back box's rear face
        low = (0, foot_t, nz - rng.uniform(0.0, 0.06))
        out = [beam(top, low, (nw, 0.01, nt))]
        foot = rng.choice(["plate", "disc", "vee"])
        if foot == "plate":
            out.append(box((rng.uniform(0.18, 0.4) * max(w, 0.5), foot_t, fd), (0, foot_t / 2, low[2] + fd * 0.2)))
        elif foot == "disc":
            out.append(cylinder(fd * 0.6, foot_t, (0, foot_t / 2, low[2] + fd * 0.15), segments=32))
        else:  # two prongs spreading forward
            spread = rng.uniform(0.1, 0.25) * max(w, 0.5)
            out.append(group([beam((0, foot_t / 2, low[2]), (sx * spread, foot_t / 2, low[2] + fd),
                                   (0.03, foot_t, 0.03)) for sx in (-1, 1)]))
        return out
    if kind == "two_feet":
        inset = w * rng.uniform(0.05, 0.3)
        fd = rng.uniform(0.12, 0.25)
        ft = rng.uniform(0.015, 0.03)
        out = []
        for sx in (-1, 1):
            x = sx * (w / 2 - inset)
            post = beam((x, y_bot + 0.03, 0), (x, ft / 2, 0), (ft, 0.01, 0.03))
            out.append(group([post, box((0.04, ft, fd), (x, ft / 2, 0))]))
        return out
    # pedestal: a low wide block (soundbar-like) with a short neck
    pw, pt = w * rng.uniform(0.3, 0.6), rng.uniform(0.02, 0.05)
    pd = rng.uniform(0.15, 0.28)
    return [box((pw, pt, pd), (0, pt / 2, back_z * 0.5)),
            box((pw * 0.3, y_bot - pt + 2 * EPS + 0.04, 0.03), (0, (y_bot + pt) / 2 + 0.02, 0))]


def display(rng: np.random.Generator) -> tuple[list[Manifold], list[Manifold]]:
    """Flat monitors/TVs on a neck+foot, two feet, a pedestal or none (wall mount), and deep CRT monitors."""
    kind = str(rng.choice(["neck", "neck", "two_feet", "pedestal", "wall", "crt"]))
    aspect = (4 / 3 if kind == "crt" else float(rng.choice(ASPECTS))) * rng.uniform(0.97, 1.03)
    w = rng.uniform(0.35, 0.55) if kind == "crt" else rng.uniform(0.35, 1.4)
    h = w / aspect
    bezel = rng.uniform(0.03, 0.07) * w if kind == "crt" else rng.uniform(0.004, 0.05) * w
    t = rng.uniform(0.03, 0.06) if kind == "crt" else rng.uniform(0.008, 0.04)
    gap = 0.0 if kind == "wall" else rng.uniform(0.02, 0.12) * h + (0.03 if kind == "pedestal" else 0.0)
    y_bot = gap
    yc = y_bot + h / 2
    rounded = rng.random() < 0.4
    frame = rounded_slab(w, h, t, rng.uniform(0.005, 0.03), (0, yc, 0)) if rounded else box((w, h, t), (0, yc, 0))
    parts = [frame]
    cuts = []
    sw, sh = w - 2 * bezel, h - 2 * bezel * rng.uniform(0.8, 1.6)
    sy = yc + (h - sh) / 2 - bezel if rng.random() < 0.3 else yc  # sometimes a wider bottom bezel
    if rng.random() < 0.6:  # recessed screen
        cuts.append(box((sw, sh, 2 * rng.uniform(0.002, 0.008)), (0, sy, t / 2)))
    else:  # a glass plate standing slightly proud
        parts.append(box((sw, sh, 0.004), (0, sy, t / 2 + 0.002 - EPS / 2)))
    back_z = -t / 2
    if kind == "crt":
        depth = w * rng.uniform(0.6, 1.0)
        rear = box((w * rng.uniform(0.4, 0.65), h * rng.uniform(0.45, 0.7), 0.01),
                   (0, yc + h * rng.uniform(-0.1, 0.05), -t / 2 - depth))
        parts.append(Manifold.batch_hull([box((w * 0.96, h * 0.96, 0.01), (0, yc, -t / 2 + EPS)), rear]))
        base_h = y_bot + 0.25 * h  # swivel base, its top hidden inside the tube's housing
        parts.append(box((w * rng.uniform(0.4, 0.6), base_h, depth * 0.5), (0, base_h / 2, -depth * 0.35)))
        return parts, cuts
    if rng.random() < 0.6:  # back box holding the electronics
        bd = rng.uniform(0.01, 0.08)
        back = box((w * rng.uniform(0.4, 0.85), h * rng.uniform(0.4, 0.8), 0.01), (0, yc, -t / 2 - bd))
        parts.append(Manifold.batch_hull([box((w * 0.9, h * 0.9, 0.01), (0, yc, -t / 2 + EPS)), back]))
        back_z = -t / 2 - bd
    if kind == "wall":
        parts.append(box((w * 0.3, h * 0.3, 0.03), (0, yc, back_z - 0.015 + EPS)))  # wall bracket
    else:
        parts += _stand(rng, kind, w, h, back_z, y_bot)
    if rng.random() < 0.2:  # speaker bar under the panel or a webcam on top
        if kind == "wall" or rng.random() < 0.5:
            parts.append(box((0.05, 0.02, 0.03), (0, y_bot + h + 0.01 - EPS, 0)))
        else:
            parts.append(box((w * 0.9, min(0.04, gap * 0.8), t), (0, y_bot - min(0.04, gap * 0.8) / 2 + EPS, 0)))
    return parts, cuts


def _driver(rng: np.random.Generator, x: float, y: float, r: float, front: float, recessed: bool,
            parts: list[Manifold], cuts: list[Manifold]) -> None:
    """A driver at ``(x, y)`` on the front plane ``z = front``: a cone-shaped recess or a proud disc and dome."""
    if recessed:
        depth = r * rng.uniform(0.25, 0.5)
        cone = cylinder(r * 0.3, depth, (x, y, front - depth / 2), axis="z", radius_top=r)
        cuts.append(group([cone, cylinder(r, r, (x, y, front + r / 2 - EPS), axis="z")]))  # clears curved fronts
        parts.append(cylinder(r * 1.15, 0.008, (x, y, front + 0.004 - EPS / 2), axis="z"))  # surround ring
    else:
        parts.append(group([cylinder(r, 0.012, (x, y, front + 0.006 - EPS / 2), axis="z"),
                            sphere(r * 0.45, (x, y, front + 0.01), scale=(1, 1, 0.5), segments=16)]))


def loudspeaker(rng: np.random.Generator) -> tuple[list[Manifold], list[Manifold]]:
    """Floor-standing, bookshelf, centre-channel, subwoofer and round speakers with drivers on the +Z face."""
    kind = str(rng.choice(["floor", "bookshelf", "bookshelf", "centre", "sub", "round"]))
    if kind == "round":
        return _round_speaker(rng)
    w, h, d = {
        "floor": (rng.uniform(0.18, 0.32), rng.uniform(0.8, 1.2), rng.uniform(0.22, 0.4)),
        "bookshelf": (rng.uniform(0.14, 0.26), rng.uniform(0.24, 0.4), rng.uniform(0.16, 0.3)),
        "centre": (rng.uniform(0.4, 0.7), rng.uniform(0.13, 0.24), rng.uniform(0.16, 0.3)),
        "sub": (rng.uniform(0.28, 0.5), rng.uniform(0.28, 0.5), rng.uniform(0.28, 0.5)),
    }[kind]
    style = rng.choice(["box", "rounded", "tapered"])
    back_w = w * rng.uniform(0.4, 0.8) if style == "tapered" else w
    base = 0.0
    feet = []
    if rng.random() < 0.4:
        if kind == "floor" and rng.random() < 0.6:  # plinth
            base = rng.uniform(0.02, 0.05)
            feet.append(box((w * rng.uniform(1.1, 1.5), base + EPS, d * rng.uniform(1.0, 1.3)), (0, base / 2, 0)))
        else:  # four spikes or pads
            base = rng.uniform(0.015, 0.04)
            pads = [cylinder(0.015, base + EPS, (sx * max(0.0, (w if sz > 0 else back_w) / 2 - 0.03), base / 2,
                                                 sz * (d / 2 - 0.03)),
                             radius_top=0.015 if kind != "floor" else 0.025) for sx in (-1, 1) for sz in (-1, 1)]
            feet.append(group(pads))
    yc = base + h / 2
    if style == "rounded":
        body = rounded_slab(w, d, h, rng.uniform(0.01, 0.05), (0, yc, 0), normal="y")
    elif style == "tapered":  # narrower at the back (lute-shaped cabinets)
        body = Manifold.batch_hull([box((w, h, 0.01), (0, yc, d / 2 - 0.005)),
                                    box((back_w, h, 0.01), (0, yc, -d / 2 + 0.005))])
    else:
        body = box((w, h, d), (0, yc, 0))
    parts, cuts = [body] + feet, []
    recessed = bool(rng.random() < 0.5)
    front = d / 2
    margin = 0.02
    if kind == "centre":  # woofers left and right of a tweeter
        r = min(h / 2 - margin, w * rng.uniform(0.1, 0.16))
        n_side = int(rng.integers(1, 3))
        for k in range(n_side):
            for sx in (-1, 1):
                _driver(rng, sx * (w * 0.15 + r + k * 2.2 * r), yc, r, front, recessed, parts, cuts)
        _driver(rng, 0.0, yc, min(r * 0.45, 0.025), front, False, parts, cuts)
    elif kind == "sub":
        r = min(w, h) * rng.uniform(0.3, 0.42)
        _driver(rng, 0.0, yc, r, front, recessed, parts, cuts)
    else:
        r = w / 2 * rng.uniform(0.55, 0.85)
        n_woof = int(rng.integers(1, 4)) if kind == "floor" else 1
        y_top = base + h - margin - 0.03
        _driver(rng, 0.0, y_top - 0.01, min(0.025, r * 0.5), front, False, parts, cuts)  # tweeter
        y = y_top - 0.05 - r
        for _ in range(n_woof):
            if y - r < base + margin:
                break
            _driver(rng, 0.0, y, r, front, recessed, parts, cuts)
            y -= 2.2 * r
    if rng.random() < 0.6:  # bass reflex port
        pr = rng.uniform(0.012, 0.03)
        on_front = rng.random() < 0.5 and kind != "centre"
        py = base + pr + margin + 0.01 if on_front else yc
        pz = front if on_front else -d / 2
        cuts.append(cylinder(pr, 0.16, (0, py, pz), axis="z"))
    return parts, cuts


def _round_speaker(rng: np.random.Generator) -> tuple[list[Manifold], list[Manifold]]:
    """A cylindrical tower or an egg/sphere speaker on a small stand, drivers facing +Z."""
    parts: list[Manifold] = []
    cuts: list[Manifold] = []
    if rng.random() < 0.5:  # cylinder tower (portable / smart speaker / column)
        r, h = rng.uniform(0.05, 0.14), rng.uniform(0.15, 0.9)
        parts.append(cylinder(r, h, (0, h / 2, 0), segments=32))
        if rng.random() < 0.5:
            parts.append(cylinder(r * 1.02, 0.02, (0, h - 0.01 + EPS, 0), segments=32))  # top cap
        n = max(1, min(4, int(h / (2.6 * r * 0.6))))
        dr = r * 0.6
        for k in range(n):
            _driver(rng, 0.0, h * (k + 0.5) / n, dr, r * 0.85, False, parts, cuts)
        return parts, cuts
    r = rng.uniform(0.08, 0.16)
    stretch = rng.uniform(0.9, 1.4)
    stand_h = rng.uniform(0.02, 0.15)
    cy = stand_h + r * stretch
    parts.append(sphere(r, (0, cy, 0), scale=(1, stretch, 1), segments=32))
    parts.append(cylinder(r * 0.4, stand_h + r * 0.3, (0, (stand_h + r * 0.3) / 2, 0), radius_top=r * 0.15))
    _driver(rng, 0.0, cy, r * 0.6, r * 0.75, bool(rng.random() < 0.5), parts, cuts)
    return parts, cuts


def _posed(parts: list[Manifold], cuts: list[Manifold], angle_x: float) -> tuple[list[Manifold], list[Manifold]]:
    """Tilt every part and cut about the X axis by ``angle_x`` degrees (negative leans the top back to -Z)."""
    return [p.rotate((angle_x, 0.0, 0.0)) for p in parts], [c.rotate((angle_x, 0.0, 0.0)) for c in cuts]


def _keypad(rows: int, cols: int, x0: float, x1: float, y0: float, y1: float, z: float, key) -> Manifold:
    """A grid of ``rows x cols`` keys of ``key (3,)`` size spread over ``[x0, x1] x [y0, y1]`` at depth ``z``."""
    xs, ys = np.linspace(x0, x1, cols), np.linspace(y0, y1, rows)
    return group([box(key, (x, y, z)) for x in xs for y in ys])


def _smartphone(rng: np.random.Generator) -> tuple[list[Manifold], list[Manifold]]:
    """A thin rounded slab with a screen, camera bump and side buttons, upright, leaning or lying."""
    h = rng.uniform(0.11, 0.17) if rng.random() < 0.85 else rng.uniform(0.18, 0.26)  # phone or phablet/tablet
    w = h / rng.uniform(1.4, 2.3)
    t = rng.uniform(0.006, 0.014)
    parts = [rounded_slab(w, h, t, rng.uniform(0.002, 0.014), (0, h / 2, 0))]
    cuts: list[Manifold] = []
    side = rng.uniform(0.002, 0.008)
    top, bottom = rng.uniform(0.003, 0.02), rng.uniform(0.003, 0.022)
    screen = (w - 2 * side, h - top - bottom)
    sy = bottom + screen[1] / 2
    if rng.random() < 0.5:
        cuts.append(box((*screen, 0.002), (0, sy, t / 2)))
    else:
        parts.append(box((*screen, 0.0015), (0, sy, t / 2 + 0.0005)))
    if bottom > 0.014 and rng.random() < 0.7:  # home button
        cuts.append(cylinder(min(0.006, bottom * 0.35), 0.002, (0, bottom / 2, t / 2), axis="z"))
    cam_w = rng.uniform(0.012, 0.035)
    bump = rng.uniform(0.0008, 0.003)
    cx = 0.0 if rng.random() < 0.3 else -(w / 2 - side - cam_w / 2 - 0.003)
    cy = h - cam_w / 2 - rng.uniform(0.006, 0.015)
    parts.append(rounded_slab(cam_w, cam_w * rng.uniform(0.5, 1.2), bump + EPS, 0.004,
                              (cx, cy, -t / 2 - bump / 2 + EPS / 2)))
    parts.append(box((0.002, rng.uniform(0.01, 0.03), min(0.004, t * 0.5)),
                     (w / 2 + 0.0005, h * rng.uniform(0.6, 0.8), 0)))  # side button
    pose = rng.random()
    angle = 0.0 if pose < 0.6 else (-rng.uniform(5, 20) if pose < 0.85 else -90.0)
    return _posed(parts, cuts, angle)


def _bar_phone(rng: np.random.Generator, flip: bool) -> tuple[list[Manifold], list[Manifold]]:
    """Candy-bar phone (small screen over a keypad, antenna stub) or a flip phone, open or closed."""
    w, t = rng.uniform(0.042, 0.056), rng.uniform(0.011, 0.022)
    h = rng.uniform(0.08, 0.1) if flip else rng.uniform(0.1, 0.135)
    parts = [rounded_slab(w, h, t, rng.uniform(0.004, 0.015), (0, h / 2, 0))]
    cuts: list[Manifold] = []
    key = (w * 0.18, h * 0.06 if not flip else h * 0.08, 0.003)
    parts.append(_keypad(4, 3, -w * 0.28, w * 0.28, h * 0.08, h * (0.42 if not flip else 0.6), t / 2, key))
    if not flip:
        cuts.append(box((w * 0.75, h * 0.3, 0.003), (0, h * 0.72, t / 2)))
        if rng.random() < 0.5:
            parts.append(cylinder(0.005, 0.02, (w * 0.3, h + 0.008, 0), radius_top=0.004))
        return _posed(parts, cuts, 0.0 if rng.random() < 0.7 else -rng.uniform(5, 15))
    hinge_r = t * 0.45
    parts.append(cylinder(hinge_r, w * 0.9, (0, h, -t * 0.05), axis="x"))
    h2 = h * rng.uniform(0.9, 1.05)
    upper = rounded_slab(w, h2, t * 0.8, 0.008, (0, h + h2 / 2, 0))
    if rng.random() < 0.6:  # open: lid swung back about the hinge by 150-175 degrees
        opening = rng.uniform(5, 30)
        screen = box((w * 0.8, h2 * 0.6, 0.003), (0, h + h2 * 0.55, t * 0.4))
        lid = group([upper, screen]).translate((0, -h, 0)).rotate((-opening, 0, 0)).translate((0, h, 0))
        parts.append(lid)
    else:  # closed: the lid folded onto the keypad, a small outer screen on the front
        lid = rounded_slab(w, h2, t * 0.8, 0.008, (0, h - h2 / 2, t * 0.85))  # overlaps the base a little
        parts.append(group([lid, box((w * 0.5, h2 * 0.3, 0.002), (0, h - h2 * 0.3, t * 1.3))]))
    return _posed(parts, cuts, 0.0)


def _desk_phone(rng: np.random.Generator) -> tuple[list[Manifold], list[Manifold]]:
    """A desk phone: sloped base, keypad on the slope, handset lying across the top (cord omitted)."""
    w, d = rng.uniform(0.16, 0.26), rng.uniform(0.16, 0.24)
    hf, hb = rng.uniform(0.025, 0.05), rng.uniform(0.06, 0.11)
    base = Manifold.batch_hull([box((w, hf, 0.01), (0, hf / 2, d / 2 - 0.005)),
                                box((w * rng.uniform(0.85, 1.0), hb, 0.01), (0, hb / 2, -d / 2 + 0.005))])

    def surf(z: float) -> float:
        return hf + (hb - hf) * (d / 2 - z) / d

    keys = [box((0.018, 0.012, 0.014), (x, surf(z) + 0.001, z))
            for x in np.linspace(-0.025, 0.025, 3) + w * rng.uniform(-0.25, 0.25)
            for z in np.linspace(d * 0.38, d * 0.02, 4)]
    parts = [base, group(keys)]
    hl = w * rng.uniform(0.8, 1.05)
    hz = -d * rng.uniform(0.15, 0.3)
    hy = surf(hz) + rng.uniform(0.015, 0.03)
    ends = [sphere(0.025, (sx * hl / 2 * 0.8, hy, hz), scale=(1.0, 0.7, 1.3), segments=16) for sx in (-1, 1)]
    grip = beam((-hl * 0.4, hy + 0.006, hz), (hl * 0.4, hy + 0.006, hz), (0.02, 0.018, 0.03))
    rests = [box((0.03, hy - surf(hz) + 0.01, 0.03), (sx * hl * 0.4, (hy + surf(hz)) / 2 - 0.005, hz))
             for sx in (-1, 1)]
    parts += [group(ends + [grip]), group(rests)]
    if rng.random() < 0.5:  # small display
        z = 0.0
        parts.append(box((w * 0.3, 0.008, 0.03), (-w * 0.25 if w > 0.2 else 0.0, surf(z) + 0.002, z)))
    return parts, []


def telephone(rng: np.random.Generator) -> tuple[list[Manifold], list[Manifold]]:
    """Mostly smartphones (upright, leaning, some lying), plus bar phones, flip phones and desk phones."""
    kind = str(rng.choice(["smart"] * 6 + ["bar", "flip", "desk"]))
    if kind == "smart":
        return _smartphone(rng)
    if kind == "desk":
        return _desk_phone(rng)
    return _bar_phone(rng, kind == "flip")
