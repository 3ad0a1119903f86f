"""Headless renderer on Open3D's CPU ray caster: RGB(A), z-depth, mask and normals for calibrated views.

No display or GPU is needed: every pixel is a ray cast against the mesh (``RaycastingScene``). The ``plain``
look is Lambertian with an ambient term and a faint specular highlight, one directional light, a flat base
colour per part; the ``random``/``shift`` looks (:mod:`lift3d.data.appearance`) add solid textures, glossy and
metallic materials, several coloured lights with ray-cast soft shadows and a sky/ground ambient.
RGB is supersampled (``s x s`` rays per pixel) for anti-aliasing; depth,
mask and normals come from the ray through each pixel's centre so they stay exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import open3d as o3d
import trimesh

from lift3d.data.appearance import (
    Appearance,
    Lighting,
    check_appearance,
    environment,
    sample_appearance,
    sample_lighting,
    texture_color,
)
from lift3d.geometry.cameras import Camera, orbit_camera
from lift3d.geometry.voxels import raycasting_scene

FOV_DEG = 40.0


@dataclass
class RenderedView:
    """One rendered view: rgba uint8 ``(H, W, 4)``, depth float32 ``(H, W)`` (camera z, 0 = background),
    mask bool ``(H, W)``, normals float32 ``(H, W, 3)`` (world space), and its camera."""

    rgba: np.ndarray
    depth: np.ndarray
    mask: np.ndarray
    normals: np.ndarray
    camera: Camera
    azimuth: float = 0.0
    elevation: float = 0.0
    distance: float = 0.0


def fit_distance(fov_deg: float = FOV_DEG, radius: float = 0.75) -> float:
    """Camera distance at which a sphere of ``radius`` about the origin just fits the view.

    Canonical objects fit [-0.5, 0.5]^3; real ones rarely reach the cube's corners (radius 0.87), so 0.75
    keeps every object in frame at any viewpoint while it still fills most of the image.
    """
    return float(radius / np.sin(np.radians(fov_deg) / 2.0))


def random_cameras(rng: np.random.Generator, n: int, size: int, elevation=(-10.0, 40.0),
                   distance=None, fov_deg: float | tuple[float, float] = FOV_DEG, roll_deg: float = 0.0,
                   offset: float = 0.0, zoom=(1.0, 1.0)) -> list[tuple[Camera, float, float, float]]:
    """``n`` cameras at random azimuth [0, 360) and elevation in ``elevation``; returns (camera, az, el, dist).

    ``fov_deg`` may be a range (drawn per view; the distance follows so the object fills the frame alike),
    ``roll_deg`` the largest roll about the optical axis, ``offset`` the largest shift of the look-at point
    (object units: the object sits off-centre) and ``zoom`` a range of distance factors (> 1: smaller in
    frame). With the defaults the draws are the original ones (same seed, same cameras).
    """
    ranged = isinstance(fov_deg, tuple | list)
    out = []
    for _ in range(n):
        az, el = float(rng.uniform(0.0, 360.0)), float(rng.uniform(*elevation))
        fov = float(np.exp(rng.uniform(*np.log(fov_deg)))) if ranged else float(fov_deg)
        dist = fit_distance(fov) if distance is None else distance
        d = float(dist * rng.uniform(0.95, 1.05))
        if not ranged and not roll_deg and not offset and tuple(zoom) == (1.0, 1.0):
            out.append((orbit_camera(az, el, d, size, size, fov), az, el, d))
            continue
        d *= float(rng.uniform(*zoom))
        roll = float(rng.uniform(-roll_deg, roll_deg))
        target = rng.uniform(-offset, offset, 3)
        out.append((orbit_camera(az, el, d, size, size, fov, roll, target), az, el, d))
    return out


def turntable_cameras(n: int, size: int, elevation: float = 20.0, distance=None,
                      fov_deg: float = FOV_DEG) -> list[tuple[Camera, float, float, float]]:
    """``n`` cameras evenly spaced in azimuth at a fixed elevation (a turntable)."""
    dist = fit_distance(fov_deg) if distance is None else distance
    return [(orbit_camera(az, elevation, dist, size, size, fov_deg), float(az), elevation, dist)
            for az in np.linspace(0.0, 360.0, n, endpoint=False)]


def random_part_colors(rng: np.random.Generator, n_parts: int) -> np.ndarray:
    """Random base colours ``(n_parts, 3)`` in [0, 1]: one hue family per shape, varied per part."""
    import colorsys

    hue = rng.uniform()
    cols = []
    for _ in range(n_parts):
        h = (hue + rng.normal(0, 0.08)) % 1.0 if rng.random() < 0.7 else rng.uniform()
        cols.append(colorsys.hsv_to_rgb(h, rng.uniform(0.2, 0.85), rng.uniform(0.35, 0.95)))
    return np.asarray(cols, dtype=np.float32)


def _cast(scene: o3d.t.geometry.RaycastingScene, cam: Camera, s: int) -> dict:
    """Cast ``s x s`` rays per pixel -> hits dict with arrays of shape ``(H*s, W*s)``."""
    W, H = cam.width * s, cam.height * s
    u, v = np.meshgrid((np.arange(W) + 0.5) / s, (np.arange(H) + 0.5) / s)
    d_cam = np.stack([u, v, np.ones_like(u)], axis=-1) @ np.linalg.inv(cam.K).T
    d_world = d_cam @ cam.R  # un-normalised: t_hit is then camera z-depth
    rays = np.concatenate([np.broadcast_to(cam.center, d_world.shape), d_world], axis=-1).astype(np.float32)
    ans = scene.cast_rays(o3d.core.Tensor(rays))
    return {"t": ans["t_hit"].numpy(), "prim": ans["primitive_ids"].numpy(), "n": ans["primitive_normals"].numpy(),
            "dir": d_world}


def render_view(mesh: trimesh.Trimesh, cam: Camera, light_dir: np.ndarray, face_colors: np.ndarray,
                background: np.ndarray | None = None, supersample: int = 2,
                scene: o3d.t.geometry.RaycastingScene | None = None) -> RenderedView:
    """Render one view in the ``plain`` look. ``face_colors (F, 3)`` in [0, 1]; ``background`` RGB in [0, 1]
    or None = transparent."""
    scene = scene or raycasting_scene(mesh)
    s = max(1, int(supersample))
    hits = _cast(scene, cam, s)
    hit = np.isfinite(hits["t"])
    n, view = _facing_normals(hits)
    lam = np.clip(n @ light_dir, 0.0, 1.0)
    half = light_dir[None, None] - view
    half /= np.linalg.norm(half, axis=-1, keepdims=True)
    spec = np.clip(np.sum(n * half, axis=-1), 0.0, 1.0) ** 32
    prim = np.where(hit, hits["prim"], 0).astype(np.int64)
    base = face_colors[prim]
    rgb = base * (0.35 + 0.65 * lam[..., None]) + 0.15 * spec[..., None]
    return _finish(rgb, hits, n, cam, s, background, scene)


def _facing_normals(hits: dict) -> tuple[np.ndarray, np.ndarray]:
    """Hit normals turned towards the camera, and unit view directions, both ``(H*s, W*s, 3)``."""
    view = hits["dir"] / np.linalg.norm(hits["dir"], axis=-1, keepdims=True)
    n = hits["n"]
    return np.where((np.sum(n * view, axis=-1) > 0)[..., None], -n, n), view


def _finish(rgb: np.ndarray, hits: dict, n: np.ndarray, cam: Camera, s: int, background: np.ndarray | None,
            scene: o3d.t.geometry.RaycastingScene) -> RenderedView:
    """Supersampled colour ``(H*s, W*s, 3)`` -> a :class:`RenderedView` (anti-aliased RGBA, exact buffers)."""
    hit = np.isfinite(hits["t"])
    alpha = hit.astype(np.float32)
    H, W = cam.height, cam.width
    rgb = (rgb * alpha[..., None]).reshape(H, s, W, s, 3).mean(axis=(1, 3))
    alpha = alpha.reshape(H, s, W, s).mean(axis=(1, 3))
    if background is not None:
        rgb = rgb + (1.0 - alpha[..., None]) * np.asarray(background, np.float32)
        alpha = np.ones_like(alpha)
    else:  # un-premultiply so transparent edges keep the object's colour
        rgb = np.where(alpha[..., None] > 0, rgb / np.maximum(alpha[..., None], 1e-6), 0.0)
    rgba = np.concatenate([np.clip(rgb, 0, 1), alpha[..., None]], axis=-1)
    if s % 2:  # odd supersampling has a sample at each pixel centre: exact geometry buffers from it
        c = s // 2
        centre = (slice(c, None, s), slice(c, None, s))
        t_c, n_c = hits["t"][centre], n[centre]
    else:  # even: cast the pixel-centre rays once more (a quarter of the supersampled rays)
        centre_hits = _cast(scene, cam, 1)
        t_c, n_c = centre_hits["t"], _facing_normals(centre_hits)[0]
    mask = np.isfinite(t_c)
    depth = np.where(mask, t_c, 0.0).astype(np.float32)
    normals = np.where(mask[..., None], n_c, 0.0).astype(np.float32)
    return RenderedView((rgba * 255 + 0.5).astype(np.uint8), depth, mask, normals, cam)


def render_view_styled(mesh: trimesh.Trimesh, cam: Camera, appearance: Appearance, lighting: Lighting,
                       part_ids: np.ndarray, rng: np.random.Generator, background: np.ndarray | None = None,
                       supersample: int = 2, scene: o3d.t.geometry.RaycastingScene | None = None,
                       texture_seed: int = 0) -> RenderedView:
    """Render one view with textured materials, several lights, soft shadows and a hemisphere ambient.

    ``part_ids (F,)`` index ``appearance.materials``. Shadow rays are jittered per sample by each light's
    ``softness`` (an area light), so supersampling turns them into soft penumbras.
    """
    scene = scene or raycasting_scene(mesh)
    s = max(1, int(supersample))
    hits = _cast(scene, cam, s)
    hit = np.isfinite(hits["t"])
    n_full, view_full = _facing_normals(hits)
    rgb = np.zeros(hit.shape + (3,), np.float32)
    if hit.any():
        n, view = n_full[hit], view_full[hit]
        p = (cam.center[None] + hits["t"][hit][:, None] * hits["dir"][hit]).astype(np.float32)
        part = part_ids[hits["prim"][hit].astype(np.int64)]
        base = np.zeros((len(p), 3), np.float32)
        kd, ks, shiny, metal = (np.zeros(len(p), np.float32) for _ in range(4))
        for k, mat in enumerate(appearance.materials):
            sel = part == k
            if sel.any():
                base[sel] = texture_color(mat, p[sel], texture_seed + k)
                kd[sel] = 0.25 if mat.kind == "metal" else 1.0
                ks[sel], shiny[sel], metal[sel] = mat.specular, mat.shininess, float(mat.kind == "metal")
        up = 0.5 + 0.5 * n[:, 1:2]
        light_sum = lighting.sky[None] * up + lighting.ground[None] * (1 - up)
        spec_sum = np.zeros((len(p), 3), np.float32)
        origin = p + n * 2e-3
        for light in lighting.lights:
            d = np.broadcast_to(light.direction, p.shape) + rng.normal(0, light.softness, p.shape)
            d = d / np.linalg.norm(d, axis=1, keepdims=True)
            lam = np.clip(np.sum(n * d, axis=1), 0, None)
            if lighting.shadows:
                rays = o3d.core.Tensor(np.concatenate([origin, d], axis=1).astype(np.float32))
                lam = lam * (~scene.test_occlusions(rays).numpy())
            light_sum = light_sum + lam[:, None] * light.color[None]
            half = d - view
            half /= np.linalg.norm(half, axis=1, keepdims=True)
            spec = np.clip(np.sum(n * half, axis=1), 0, 1) ** shiny * (lam > 0)
            spec_sum = spec_sum + spec[:, None] * light.color[None]
        spec_col = np.where(metal[:, None] > 0, base, 1.0)
        refl = view - 2 * np.sum(view * n, axis=1, keepdims=True) * n
        env = environment(refl, lighting) * base * (0.6 * metal)[:, None]
        col = base * kd[:, None] * light_sum + ks[:, None] * spec_col * spec_sum + env
        rgb[hit] = col * lighting.exposure
    return _finish(rgb, hits, n_full, cam, s, background, scene)


def render_views(mesh: trimesh.Trimesh, cameras: list, seed: int | np.random.Generator = 0,
                 part_ids: np.ndarray | None = None, colors: np.ndarray | None = None,
                 background: str | tuple = "transparent", supersample: int = 2,
                 appearance: str = "plain") -> list[RenderedView]:
    """Render ``mesh`` from each camera (a :class:`Camera` or a ``(camera, az, el, dist)`` tuple).

    Args:
        part_ids: int ``(F,)`` part per face (default: ``mesh.metadata["part_ids"]`` or one part).
        colors: RGB ``(P, 3)`` per part in [0, 1] (``plain`` only; default: random from ``seed``).
        background: ``"transparent"`` (alpha = coverage), ``"random"`` (a random colour per view) or an
            RGB tuple in [0, 1].
        appearance: ``plain`` (flat part colours, one light from the camera side of the upper hemisphere,
            drawn per view), ``random`` or ``shift`` (textured materials and light rigs, see
            :mod:`lift3d.data.appearance`; materials are drawn once per shape, lights per view).
    """
    check_appearance(appearance)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if part_ids is None:
        part_ids = mesh.metadata.get("part_ids", np.zeros(len(mesh.faces), np.int64))
    part_ids = np.asarray(part_ids, np.int64)
    n_parts = int(part_ids.max()) + 1
    styled = appearance != "plain"
    if styled:
        look = sample_appearance(rng, n_parts, appearance)
        texture_seed = int(rng.integers(2**31))
    elif colors is None:
        colors = random_part_colors(rng, n_parts)
    face_colors = None if styled else np.asarray(colors, np.float32)[part_ids]
    scene = raycasting_scene(mesh)
    out = []
    for item in cameras:
        cam, az, el, dist = item if isinstance(item, tuple) else (item, 0.0, 0.0, 0.0)
        towards_cam = cam.center / max(np.linalg.norm(cam.center), 1e-9)
        if styled:
            lighting = sample_lighting(rng, appearance, towards_cam)
        else:
            light = towards_cam + rng.normal(0, 0.6, 3) + np.array([0.0, 0.8, 0.0])
            light /= np.linalg.norm(light)
        if background == "transparent":
            bg = None
        elif background == "random":
            bg = rng.uniform(0, 1, 3)
        else:
            bg = np.asarray(background, np.float32)
        if styled:
            view = render_view_styled(mesh, cam, look, lighting, part_ids, rng, bg, supersample, scene,
                                      texture_seed)
        else:
            view = render_view(mesh, cam, light, face_colors, bg, supersample, scene)
        view.azimuth, view.elevation, view.distance = az, el, dist
        out.append(view)
    return out


def render_turntable(mesh: trimesh.Trimesh, n_views: int = 8, size: int = 256, color=None,
                     background=(1.0, 1.0, 1.0), elevation: float = 20.0) -> np.ndarray:
    """Tile ``n_views`` turntable renders of ``mesh`` in one RGB uint8 image ``(size, n_views*size, 3)``."""
    col = np.array([[0.7, 0.7, 0.75]]) if color is None else np.asarray(color, np.float32).reshape(1, 3)
    cams = turntable_cameras(n_views, size, elevation)
    views = render_views(mesh, cams, 0, part_ids=np.zeros(len(mesh.faces), np.int64), colors=col,
                         background=background)
    return np.concatenate([v.rgba[..., :3] for v in views], axis=1)
