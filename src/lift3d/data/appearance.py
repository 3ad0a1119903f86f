"""Appearance randomisation for the renderer: procedural solid textures, materials, light rigs.

Three styles (``APPEARANCES``):

- ``plain``: the original look — one flat colour per part, one directional light, Lambert + a faint highlight.
- ``random`` (training default): per part a solid texture (flat, wood grain, value noise, stripes, checker,
  image-like multi-octave colour noise) and a material (diffuse, glossy, metallic with an environment
  reflection); 1-3 coloured directional lights with soft shadows plus a sky/ground ambient.
- ``shift``: held out for the appearance-shift test split. Its textures (marble veins, camouflage blotches)
  and its light rig (a fixed three-point studio rig: warm key, cool fill, strong rim from behind) never occur
  in ``random``, so a test on it measures what an unseen appearance costs.

Textures are *solid* (evaluated at the 3D hit point, in the object frame), so they need no UV map and stay
consistent across the views of one shape. Everything is drawn from a seeded generator.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field

import numpy as np

from lift3d.errors import InputError

APPEARANCES = ("plain", "random", "shift")
TRAIN_TEXTURES = ("flat", "wood", "noise", "stripes", "checker", "image")
SHIFT_TEXTURES = ("marble", "camo")


@dataclass
class Material:
    """One part's surface: texture kind + its parameters, and the reflectance model."""

    texture: str
    colors: np.ndarray  # (2, 3) in [0, 1]: base and second colour of the texture
    scale: float  # texture frequency (cycles per unit length)
    axis: np.ndarray  # (3,) unit vector: grain / stripe direction
    phase: np.ndarray  # (3,) offset of the texture in space
    kind: str = "diffuse"  # diffuse | glossy | metal
    specular: float = 0.15
    shininess: float = 32.0


@dataclass
class Light:
    """A directional light (``direction`` points from the surface to the light) with RGB intensity."""

    direction: np.ndarray  # (3,)
    color: np.ndarray  # (3,)
    softness: float = 0.0  # angular jitter of shadow rays (radians-ish), 0 = hard shadows


@dataclass
class Lighting:
    """Lights of one view plus a hemisphere ambient (sky colour from above, ground colour from below)."""

    lights: list[Light]
    sky: np.ndarray  # (3,)
    ground: np.ndarray  # (3,)
    shadows: bool = False
    exposure: float = 1.0


@dataclass
class Appearance:
    """How a shape looks: a style name and one material per part."""

    style: str
    materials: list[Material] = field(default_factory=list)


def check_appearance(style: str) -> str:
    if style not in APPEARANCES:
        raise InputError(f"unknown appearance {style!r}; valid: {', '.join(APPEARANCES)}")
    return style


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.asarray(colorsys.hsv_to_rgb(h % 1.0, float(np.clip(s, 0, 1)), float(np.clip(v, 0, 1))), np.float32)


def _palette(rng: np.random.Generator, texture: str, hue: float) -> np.ndarray:
    """Two colours ``(2, 3)`` suited to the texture (wood is brown, the rest follows the shape's hue family)."""
    if texture == "wood":
        base = _hsv(rng.uniform(0.05, 0.11), rng.uniform(0.35, 0.75), rng.uniform(0.35, 0.85))
        return np.stack([base, base * rng.uniform(0.45, 0.75)])
    if rng.random() < 0.25:  # near-white / grey / black products are common in photos
        v = float(rng.choice([rng.uniform(0.05, 0.2), rng.uniform(0.4, 0.6), rng.uniform(0.85, 0.98)]))
        base = np.full(3, v, np.float32)
    else:
        h = (hue + rng.normal(0, 0.08)) if rng.random() < 0.7 else rng.uniform()
        base = _hsv(h, rng.uniform(0.15, 0.9), rng.uniform(0.3, 0.95))
    second = _hsv(rng.uniform(), rng.uniform(0.0, 0.9), rng.uniform(0.1, 1.0))
    if texture in ("noise", "image"):
        second = np.clip(base * rng.uniform(0.5, 1.3) + rng.normal(0, 0.08, 3), 0, 1).astype(np.float32)
    return np.stack([base, second]).astype(np.float32)


def sample_appearance(rng: np.random.Generator, n_parts: int, style: str) -> Appearance:
    """Materials for ``n_parts`` parts in ``style`` (``plain`` parts carry flat diffuse colours)."""
    check_appearance(style)
    textures = SHIFT_TEXTURES if style == "shift" else TRAIN_TEXTURES
    hue = rng.uniform()
    mats: list[Material] = []
    single = style != "plain" and rng.random() < 0.3  # many products are one material all over
    for _ in range(n_parts):
        if single and mats:
            mats.append(mats[0])
            continue
        if style == "plain":
            tex = "flat"
        elif style == "random":
            tex = str(rng.choice(textures, p=[0.3, 0.15, 0.15, 0.12, 0.1, 0.18]))
        else:
            tex = str(rng.choice(textures))
        kind = "diffuse" if style == "plain" else str(rng.choice(["diffuse", "glossy", "metal"], p=[0.5, 0.3, 0.2]))
        spec, shiny = {"diffuse": (0.05, 8.0), "glossy": (0.5, 60.0), "metal": (0.8, 24.0)}[kind]
        mats.append(Material(tex, _palette(rng, tex, hue), float(rng.uniform(2.0, 9.0)),
                             _unit(rng.normal(size=3)), rng.uniform(-10, 10, 3), kind,
                             spec * float(rng.uniform(0.6, 1.4)), shiny * float(rng.uniform(0.7, 1.5))))
    return Appearance(style, mats)


def sample_lighting(rng: np.random.Generator, style: str, towards_cam: np.ndarray) -> Lighting:
    """A light rig for one view. ``towards_cam (3,)``: unit vector from the object to the camera."""
    up = np.array([0.0, 1.0, 0.0])
    side = _unit(np.cross(up, towards_cam)) if abs(towards_cam[1]) < 0.99 else np.array([1.0, 0.0, 0.0])
    if style == "shift":  # fixed three-point studio rig, never used by "random"
        key = Light(_unit(towards_cam + 0.9 * side + 0.8 * up), np.array([1.25, 1.05, 0.8]), 0.05)
        fill = Light(_unit(towards_cam - 1.2 * side + 0.2 * up), np.array([0.25, 0.35, 0.55]), 0.2)
        rim = Light(_unit(-towards_cam + 0.6 * up + 0.3 * side), np.array([1.1, 1.1, 1.1]), 0.05)
        return Lighting([key, fill, rim], np.array([0.22, 0.2, 0.25]), np.array([0.08, 0.07, 0.06]), True, 1.0)
    n = int(rng.choice([1, 2, 3], p=[0.4, 0.4, 0.2]))
    lights = []
    for k in range(n):
        # the first light comes from the camera's side of the upper hemisphere; others from anywhere above
        d = (towards_cam if k == 0 else rng.normal(size=3)) + rng.normal(0, 0.6, 3) + np.array([0.0, 0.8, 0.0])
        tint = _hsv(rng.choice([rng.uniform(0.05, 0.12), rng.uniform(0.55, 0.65)]), rng.uniform(0.0, 0.3), 1.0)
        power = rng.uniform(0.6, 1.1) if k == 0 else rng.uniform(0.15, 0.5)
        lights.append(Light(_unit(d), tint * power, float(rng.uniform(0.02, 0.25))))
    amb = rng.uniform(0.15, 0.45)
    sky = _hsv(rng.uniform(0.5, 0.7), rng.uniform(0.0, 0.35), 1.0) * amb
    ground = _hsv(rng.uniform(0.0, 0.15), rng.uniform(0.0, 0.4), 1.0) * amb * rng.uniform(0.3, 0.8)
    return Lighting(lights, sky, ground, bool(rng.random() < 0.8), float(rng.uniform(0.85, 1.2)))


# ------------------------------------------------------------------ solid textures
def _lattice(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, 4096).astype(np.float32)


def value_noise(p: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Smooth 3D value noise in [0, 1] at points ``(N, 3)`` (trilinear over a hashed lattice, smoothstep).

    Written here because no installed library offers vectorised 3D noise on arbitrary points.
    """
    i = np.floor(p).astype(np.int64)
    f = (p - i).astype(np.float32)
    f = f * f * (3 - 2 * f)
    out = np.zeros(len(p), np.float32)
    for dx in (0, 1):
        for dy in (0, 1):
            for dz in (0, 1):
                h = ((i[:, 0] + dx) * 73856093 ^ (i[:, 1] + dy) * 19349663 ^ (i[:, 2] + dz) * 83492791) % len(table)
                w = (f[:, 0] if dx else 1 - f[:, 0]) * (f[:, 1] if dy else 1 - f[:, 1])
                w = w * (f[:, 2] if dz else 1 - f[:, 2])
                out += w * table[h]
    return out


def fbm(p: np.ndarray, table: np.ndarray, octaves: int = 4) -> np.ndarray:
    """Fractal sum of :func:`value_noise` octaves, in [0, 1]."""
    total, amp, norm = np.zeros(len(p), np.float32), 1.0, 0.0
    for o in range(octaves):
        total += amp * value_noise(p * (2.0 ** o) + 17.0 * o, table)
        norm += amp
        amp *= 0.5
    return total / norm


def texture_color(mat: Material, p: np.ndarray, seed: int = 0) -> np.ndarray:
    """Base colour ``(N, 3)`` of material ``mat`` at object-frame points ``p (N, 3)``."""
    a, b = mat.colors[0], mat.colors[1]
    if mat.texture == "flat" or len(p) == 0:
        return np.broadcast_to(a, (len(p), 3)).astype(np.float32)
    table = _lattice(seed)
    q = (p + mat.phase) * mat.scale
    along = q @ mat.axis
    if mat.texture == "wood":  # growth rings around the grain axis, perturbed by noise
        radial = np.linalg.norm(q - along[:, None] * mat.axis, axis=1)
        t = (radial * 2.5 + 1.5 * fbm(q * 0.7, table, 3)) % 1.0
        t = np.clip(np.abs(t - 0.5) * 2.0, 0, 1) ** 2
    elif mat.texture == "noise":
        t = fbm(q, table, 4)
    elif mat.texture == "stripes":
        t = (np.sin(along * np.pi * 2.0) > 0).astype(np.float32)
    elif mat.texture == "checker":
        t = (np.floor(q).astype(np.int64).sum(axis=1) % 2).astype(np.float32)
    elif mat.texture == "image":  # multi-octave colour noise, like a busy printed pattern
        t = fbm(q * 1.7, table, 5)
        hue_shift = fbm(q * 0.9 + 31.0, table, 3)[:, None]
        b = np.clip(b[None] * (0.6 + 0.8 * hue_shift) + (a[None] - b[None]) * (1 - hue_shift), 0, 1)
        return (a[None] * (1 - t[:, None]) + b * t[:, None]).astype(np.float32)
    elif mat.texture == "marble":  # veins: sharp ridges of a turbulent sine
        t = np.abs(np.sin(along * 3.0 + 6.0 * fbm(q, table, 5))) ** 0.25
        return (b[None] * (1 - t[:, None]) + np.clip(a + 0.3, 0, 1)[None] * t[:, None]).astype(np.float32)
    elif mat.texture == "camo":  # three-colour blotches from thresholded noise
        n1, n2 = fbm(q * 0.6, table, 3), fbm(q * 0.6 + 50.0, table, 3)
        third = np.clip(1.0 - a * 0.6, 0, 1)
        out = np.where((n1 > 0.5)[:, None], a[None], b[None])
        return np.where((n2 > 0.55)[:, None], third[None], out).astype(np.float32)
    else:
        raise InputError(f"unknown texture {mat.texture!r}")
    return (a[None] * (1 - t[:, None]) + b[None] * t[:, None]).astype(np.float32)


def environment(d: np.ndarray, lighting: Lighting) -> np.ndarray:
    """Radiance ``(N, 3)`` of a simple studio environment in directions ``d (N, 3)``: sky above, ground below,
    a bright horizon band (what a metallic surface reflects)."""
    y = d[:, 1:2]
    band = np.exp(-(y / 0.12) ** 2)
    sky = lighting.sky[None] / max(float(lighting.sky.max()), 1e-3)
    ground = lighting.ground[None] / max(float(lighting.sky.max()), 1e-3)
    return np.where(y > 0, sky * (0.5 + 0.5 * y), ground * 0.6) + 0.6 * band
