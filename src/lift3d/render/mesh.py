"""Render a trimesh with its own colours (texture, vertex or face colours) from a calibrated camera, headless.

Every pixel is a ray cast by Open3D's CPU ``RaycastingScene`` (no display, no GPU, no rasteriser of our own). A ray
through pixel ``(u, v)`` (centres at integer + 0.5) has the un-normalised world direction ``R^T K^-1 (u, v, 1)``,
so its hit distance is the camera z-depth. ``ss x ss`` rays per pixel are averaged for anti-aliasing; depth and
mask always come from the ray through the pixel centre.

Lighting: ``unlit`` returns the albedo exactly (a render of a mesh whose texture is known reproduces it; this is
how texture colours are compared with photos); ``shaded`` multiplies it by ``AMBIENT + DIFFUSE * max(0, n.l)``,
Lambert with one light that follows the camera (from above its left shoulder), two-sided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import trimesh

from lift3d.errors import InputError
from lift3d.geometry.cameras import Camera
from lift3d.render.surface import Surface, barycentric

if TYPE_CHECKING:
    import open3d as o3d

LIGHTINGS = ("shaded", "unlit")
AMBIENT, DIFFUSE = 0.3, 0.7
LIGHT_CAMERA = np.array([-0.3, -0.5, -1.0]) / np.linalg.norm([-0.3, -0.5, -1.0])
"""Direction towards the key light in camera coordinates (x right, y down, z forward): up-left behind the camera."""
CHUNK_RAYS = 1 << 20  # rays cast at once: bounds memory at large sizes and supersampling


@dataclass
class RenderResult:
    """One render of ``H x W`` pixels.

    Attributes:
        rgba: uint8 ``(H, W, 4)``: the image over the background (straight alpha; alpha = coverage where the
            background is transparent).
        rgb: float32 ``(H, W, 3)`` in [0, 1]: the image over the background's opaque colour (for ``unlit`` and
            ``ss=1``, exactly the albedo on covered pixels).
        mask: bool ``(H, W)``: the pixel centre's ray hits the mesh.
        depth: float32 ``(H, W)``: camera z-depth of that hit, 0 where it misses.
        camera: the camera rendered from.
    """

    rgba: np.ndarray
    rgb: np.ndarray
    mask: np.ndarray
    depth: np.ndarray
    camera: Camera


def check_lighting(lighting: str) -> None:
    """Raise :class:`InputError` unless ``lighting`` is one of :data:`LIGHTINGS`."""
    if lighting not in LIGHTINGS:
        raise InputError(f"unknown lighting {lighting!r}; use one of {', '.join(LIGHTINGS)}")


def parse_background(background) -> tuple[np.ndarray, float]:
    """RGB or RGBA in [0, 1] -> ``(rgb (3,), alpha)``."""
    bg = np.asarray(background, np.float64).reshape(-1)
    if len(bg) not in (3, 4) or not np.all(np.isfinite(bg)) or bg.min() < 0 or bg.max() > 1:
        raise InputError(f"background must be 3 or 4 numbers in [0, 1] (RGB or RGBA), got {background!r}")
    return bg[:3], float(bg[3]) if len(bg) == 4 else 1.0


def camera_rays(cam: Camera, ss: int, rows: tuple[int, int] | None = None) -> np.ndarray:
    """Rays ``(h*ss, W*ss, 6)`` float32 (origin, un-normalised direction with camera z = 1) for image rows
    ``[r0, r1)`` (default: all), ``ss x ss`` per pixel on a regular sub-grid."""
    r0, r1 = rows or (0, cam.height)
    u = (np.arange(cam.width * ss) + 0.5) / ss
    v = r0 + (np.arange((r1 - r0) * ss) + 0.5) / ss
    uu, vv = np.meshgrid(u.astype(np.float32), v.astype(np.float32))
    to_world = (np.linalg.inv(cam.K).T @ cam.R).astype(np.float32)  # pixel (u, v, 1) -> world direction
    rays = np.empty(uu.shape + (6,), np.float32)
    rays[..., :3] = cam.center
    rays[..., 3:] = uu[..., None] * to_world[0] + vv[..., None] * to_world[1] + to_world[2]
    return rays


def _cast(scene: o3d.t.geometry.RaycastingScene, rays: np.ndarray) -> dict[str, np.ndarray]:
    import open3d as o3d

    ans = scene.cast_rays(o3d.core.Tensor(rays))
    return {k: ans[k].numpy() for k in ("t_hit", "primitive_ids", "primitive_uvs")}


def _shade(hits: dict[str, np.ndarray], rays: np.ndarray, surface: Surface, lighting: str,
           light: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Colour ``(h, w, 3)`` (0 on misses) and coverage ``(h, w)`` of one block of rays ``(h, w, 6)``."""
    hit = np.isfinite(hits["t_hit"])
    out = np.zeros(hit.shape + (3,), np.float32)
    if hit.any():
        face = hits["primitive_ids"][hit].astype(np.int64)
        w = barycentric(hits["primitive_uvs"][hit])
        col = surface.albedo(face, w)
        if lighting == "shaded":
            n = surface.normals(face, w)
            towards_eye = -rays[..., 3:][hit]
            n = np.where((np.einsum("nc,nc->n", n, towards_eye) < 0)[:, None], -n, n)  # two-sided
            col = col * (AMBIENT + DIFFUSE * np.clip(n @ light, 0.0, None))[:, None].astype(np.float32)
        out[hit] = col
    return out, hit


def render_mesh(mesh: trimesh.Trimesh, camera: Camera, lighting: Literal["shaded", "unlit"] = "shaded",
                background=(1.0, 1.0, 1.0, 0.0), ss: int | None = None, color=None,
                scene: o3d.t.geometry.RaycastingScene | None = None, surface: Surface | None = None) -> RenderResult:
    """Render ``mesh`` (vertices ``(V, 3)``, faces ``(F, 3)``) as ``camera`` sees it.

    Args:
        lighting: ``unlit`` (albedo exactly) or ``shaded`` (Lambert + ambient, light from the camera's side).
        background: RGB (opaque) or RGBA in [0, 1]; the default is transparent (alpha = coverage).
        ss: rays per pixel side for anti-aliasing (``ss^2`` per pixel); default 1 for ``unlit``, 2 for ``shaded``.
        color: RGB in [0, 1] for the whole surface, overriding the mesh's visuals (see :mod:`lift3d.render.surface`).
        scene, surface: prepared once for many renders of one mesh (:func:`lift3d.geometry.voxels.raycasting_scene`,
            :class:`~lift3d.render.surface.Surface`).
    """
    from lift3d.geometry.voxels import raycasting_scene

    check_lighting(lighting)
    bg_rgb, bg_alpha = parse_background(background)
    ss = (1 if lighting == "unlit" else 2) if ss is None else int(ss)
    if not 1 <= ss <= 8:
        raise InputError(f"supersampling ss must be in [1, 8], got {ss}")
    scene = scene if scene is not None else raycasting_scene(mesh)
    surface = surface if surface is not None else Surface(mesh, color)
    light = camera.R.T @ LIGHT_CAMERA
    H, W = camera.height, camera.width
    premult = np.zeros((H, W, 3), np.float32)
    cover = np.zeros((H, W), np.float32)
    depth = np.zeros((H, W), np.float32)
    step = max(1, CHUNK_RAYS // (W * ss * ss))
    for r0 in range(0, H, step):
        r1 = min(H, r0 + step)
        rays = camera_rays(camera, ss, (r0, r1))
        hits = _cast(scene, rays)
        col, hit = _shade(hits, rays, surface, lighting, light)
        h = r1 - r0
        premult[r0:r1] = col.reshape(h, ss, W, ss, 3).mean(axis=(1, 3))
        cover[r0:r1] = hit.reshape(h, ss, W, ss).mean(axis=(1, 3))
        if ss % 2:  # odd: one sub-ray goes through each pixel centre
            t = hits["t_hit"][ss // 2::ss, ss // 2::ss]
        else:
            t = _cast(scene, camera_rays(camera, 1, (r0, r1)))["t_hit"]
        depth[r0:r1] = np.where(np.isfinite(t), t, 0.0)
    a = cover[..., None]
    rgb = np.clip(premult + (1.0 - a) * bg_rgb, 0.0, 1.0).astype(np.float32)
    out_a = a + (1.0 - a) * bg_alpha
    straight = np.where(out_a > 0, (premult + (1.0 - a) * bg_alpha * bg_rgb) / np.maximum(out_a, 1e-12), bg_rgb)
    rgba = np.concatenate([np.clip(straight, 0.0, 1.0), out_a], axis=-1)
    return RenderResult((rgba * 255.0 + 0.5).astype(np.uint8), rgb, depth > 0, depth, camera)
