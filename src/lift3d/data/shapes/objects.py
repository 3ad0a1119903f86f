"""Household-object families: lamp, mug, bottle/vase (surfaces of revolution from random profiles)."""

from __future__ import annotations

import numpy as np
from manifold3d import Manifold

from lift3d.data.shapes.primitives import box, cylinder, revolve, sphere, tube


def _smooth_profile(rng: np.random.Generator, n_ctrl: int, lo: float, hi: float, samples: int = 16) -> np.ndarray:
    """A smooth random radius profile ``(samples,)``: cubic interpolation of random control radii."""
    from scipy.interpolate import CubicSpline

    ctrl = rng.uniform(lo, hi, n_ctrl)
    spline = CubicSpline(np.linspace(0, 1, n_ctrl), ctrl, bc_type="natural")
    return np.clip(spline(np.linspace(0, 1, samples)), lo * 0.6, hi * 1.2)


def lamp(rng: np.random.Generator) -> list[Manifold]:
    h = rng.uniform(0.4, 1.6)
    base_r = rng.uniform(0.08, 0.2)
    base_t = rng.uniform(0.02, 0.06)
    parts = [
        cylinder(base_r, base_t, (0, base_t / 2, 0))
        if rng.random() < 0.7
        else box((base_r * 2, base_t, base_r * 2), (0, base_t / 2, 0))
    ]
    stem_r = rng.uniform(0.015, 0.03) * max(1.0, h)
    shade_h = rng.uniform(0.15, 0.35) * max(0.6, h / 1.2)
    if rng.random() < 0.35:  # desk lamp: bent arm
        knee = (rng.uniform(-0.05, 0.05), h * rng.uniform(0.45, 0.6), rng.uniform(-0.1, 0.05))
        head = (0.0, h - shade_h * 0.4, rng.uniform(0.15, 0.35))
        parts.append(tube([(0, base_t, 0), knee, head], stem_r))
        parts.append(
            cylinder(shade_h * 0.25, shade_h, head, radius_top=shade_h * 0.6, axis="y").translate(
                (0, -shade_h * 0.3, 0)
            )
        )
        return parts
    parts.append(cylinder(stem_r, h - shade_h * 0.5, (0, (h - shade_h * 0.5) / 2, 0)))
    r_bot = rng.uniform(0.12, 0.3) * max(0.6, h / 1.2)
    r_top = r_bot * rng.uniform(0.4, 1.0)
    shade = cylinder(r_bot, shade_h, (0, h - shade_h / 2, 0), radius_top=r_top)
    if rng.random() < 0.3:
        shade = sphere(r_bot, (0, h - r_bot, 0))
    parts.append(shade)
    return parts


def mug(rng: np.random.Generator) -> tuple[list[Manifold], list[Manifold]]:
    h = rng.uniform(0.08, 0.14)
    r = rng.uniform(0.035, 0.06)
    taper = rng.uniform(0.75, 1.15)
    wall = rng.uniform(0.004, 0.008)
    body = cylinder(r, h, (0, h / 2, 0), radius_top=r * taper, segments=32)
    cavity = cylinder(r - wall, h, (0, h / 2 + wall * 1.5, 0), radius_top=r * taper - wall, segments=32)
    handle_h = h * rng.uniform(0.45, 0.75)
    reach = rng.uniform(0.025, 0.045)
    y_mid = h * rng.uniform(0.45, 0.55)
    ht = rng.uniform(0.006, 0.011)
    x0 = r * (1 + taper) / 2 - 0.002
    pts = [
        (x0 - 0.003, y_mid + handle_h / 2, 0),
        (x0 + reach * 0.8, y_mid + handle_h / 2, 0),
        (x0 + reach, y_mid, 0),
        (x0 + reach * 0.8, y_mid - handle_h / 2, 0),
        (x0 - 0.003, y_mid - handle_h / 2, 0),
    ]
    handle = tube(pts, ht)
    return [body, handle], [cavity]


def bottle(rng: np.random.Generator) -> list[Manifold]:
    """Bottles and vases: a random smooth body profile, optional neck and lip."""
    h = rng.uniform(0.2, 0.45)
    r = rng.uniform(0.04, 0.12)
    kind = rng.choice(["bottle", "vase", "jar"])
    n = 18
    ys = np.linspace(0, h, n)
    if kind == "bottle":
        shoulder = rng.uniform(0.5, 0.75)
        neck_r = r * rng.uniform(0.2, 0.4)
        t = np.linspace(0, 1, n)
        blend = np.clip((t - shoulder) / (1 - shoulder) * 1.6, 0, 1)
        radii = r * (1 - blend) + neck_r * blend
        radii[-1] = neck_r * 1.15  # lip
    elif kind == "vase":
        radii = r * _smooth_profile(rng, int(rng.integers(3, 6)), 0.35, 1.0, n)
    else:  # jar: wide, short, with a lid knob
        ys = np.linspace(0, h * 0.6, n)
        radii = r * 1.3 * _smooth_profile(rng, 3, 0.8, 1.0, n)
    radii[0] = radii[1] * 0.9  # slightly rounded foot
    parts = [revolve(radii, ys, segments=32)]
    if kind == "jar" and rng.random() < 0.7:
        parts.append(sphere(r * 0.3, (0, ys[-1], 0), scale=(1, 0.6, 1)))
    return parts
