"""Find the camera that saw a photo, given the reconstructed mesh and the photo's foreground mask.

A camera-free model answers in the canonical object frame (+Y up) and never says where the photo was taken
from: training views come from any azimuth. Colouring the mesh from the photo needs that camera, so it is
recovered by silhouette fitting: the mesh is ray-cast from candidate viewpoints on the viewing sphere and the
one whose silhouette best overlaps the photo's mask (IoU) wins. Both silhouettes are compared inside the same
square crop around their bounding boxes (the crop :func:`lift3d.data.preprocess.prepare_image` gives the
network), so the object's distance, size in frame and position in the photo drop out of the search; they come
back in closed form when the winning crop camera is mapped onto the photo's pixels.

Search: a coarse grid over azimuth (all round) and elevation (the training prior, -10..50 degrees), then a
finer grid around the best few. All candidate silhouettes of one round are cast in a single Open3D call.
A front/back mirror ambiguity remains only for views close to the horizon of left-right symmetric objects
(orthographically, ``(az, el)`` and ``(180 - az, -el)`` see the same outline); the elevation prior breaks it
for views from above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from lift3d.errors import InputError
from lift3d.geometry.cameras import Camera, look_at, spherical_eye

CROP_MARGIN = 0.08  # as lift3d.data.preprocess.prepare_image


@dataclass
class CameraFit:
    """A fitted view: the ``camera`` in the photo's pixels, its viewpoint in degrees, and the silhouette
    ``iou`` (mesh outline vs the photo's mask inside the crop, 1 = identical)."""

    camera: Camera
    azimuth: float
    elevation: float
    iou: float


def _crop_box(mask: np.ndarray, margin: float = CROP_MARGIN) -> tuple[float, float, float]:
    """Square crop around a mask's bounding box -> ``(cx, cy, side)`` in pixels (centres at +0.5)."""
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        raise InputError("cannot fit a camera: the foreground mask is empty")
    cx, cy = (xs.min() + xs.max() + 1) / 2.0, (ys.min() + ys.max() + 1) / 2.0
    side = max(ys.max() + 1 - ys.min(), xs.max() + 1 - xs.min()) / (1.0 - 2.0 * margin)
    return float(cx), float(cy), float(side)


def _crop_mask(mask: np.ndarray, box: tuple[float, float, float], size: int) -> np.ndarray:
    """The mask resampled into the ``size x size`` crop ``box`` -> bool ``(size, size)``."""
    from PIL import Image

    cx, cy, side = box
    extent = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    img = Image.fromarray(mask.astype(np.float32), mode="F")
    return np.asarray(img.transform((size, size), Image.Transform.EXTENT, extent, Image.Resampling.BILINEAR,
                                    fillcolor=0.0)) >= 0.5


def _crop_camera(vertices: np.ndarray, R: np.ndarray, t: np.ndarray, size: int,
                 margin: float) -> tuple[np.ndarray, tuple[float, float, float]] | None:
    """Intrinsics that put the projected vertices' square crop onto a ``size``-pixel image.

    Returns ``(K_crop (3, 3), (cx, cy, side))`` with the box in units of a unit-focal image plane, or ``None``
    when a vertex is behind the camera.
    """
    xc = vertices @ R.T + t
    if (xc[:, 2] <= 1e-6).any():
        return None
    u, v = xc[:, 0] / xc[:, 2], xc[:, 1] / xc[:, 2]
    cx, cy = (u.min() + u.max()) / 2.0, (v.min() + v.max()) / 2.0
    side = max(u.max() - u.min(), v.max() - v.min(), 1e-9) / (1.0 - 2.0 * margin)
    s = size / side
    K = np.array([[s, 0.0, size / 2.0 - cx * s], [0.0, s, size / 2.0 - cy * s], [0.0, 0.0, 1.0]])
    return K, (cx, cy, side)


def _silhouettes(scene, vertices: np.ndarray, views: list[tuple[float, float]], distance: float, size: int,
                 margin: float) -> tuple[np.ndarray, list]:
    """Cast every view's crop silhouette in one call -> bool ``(N, size, size)`` and per view ``(K, R, t)``."""
    import open3d as o3d

    pix = (np.stack(np.meshgrid(np.arange(size), np.arange(size)), axis=-1).reshape(-1, 2) + 0.5)
    pix1 = np.concatenate([pix, np.ones((len(pix), 1))], axis=1)
    rays, params = [], []
    for az, el in views:
        R, t = look_at(spherical_eye(az, el, distance))
        fit = _crop_camera(vertices, R, t, size, margin)
        if fit is None:
            params.append(None)
            rays.append(np.zeros((len(pix), 6)))
            continue
        K = fit[0]
        d = pix1 @ np.linalg.inv(K).T @ R  # camera rays rotated to the world (row-wise R^T d)
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        rays.append(np.concatenate([np.broadcast_to(-R.T @ t, d.shape), d], axis=1))
        params.append((K, R, t))
    hit = scene.cast_rays(o3d.core.Tensor(np.concatenate(rays).astype(np.float32)))["t_hit"].numpy()
    sil = np.isfinite(hit).reshape(len(views), size, size)
    for i, p in enumerate(params):
        if p is None:
            sil[i] = False
    return sil, params


def _iou(sil: np.ndarray, target: np.ndarray) -> np.ndarray:
    inter = (sil & target).sum(axis=(1, 2))
    union = (sil | target).sum(axis=(1, 2))
    return inter / np.maximum(union, 1)


def fit_camera(mesh: trimesh.Trimesh, mask: np.ndarray, fov_deg: float = 40.0, size: int = 64,
               azimuth_step: float = 10.0, elevations: tuple[float, float] = (-10.0, 50.0),
               refine: bool = True) -> CameraFit:
    """The pinhole camera from which ``mesh`` best reproduces the photo's silhouette ``mask``.

    Args:
        mesh: the reconstruction, vertices ``(V, 3)`` and faces ``(F, 3)``, canonical frame (+Y up), centred
            near the origin.
        mask: bool ``(H, W)`` foreground of the photo.
        fov_deg: assumed horizontal field of view (perspective barely changes a silhouette; the focal length in
            pixels follows from the crop, so the fitted camera still lines the outline up with the photo).
        size: side of the crop in which silhouettes are compared.
        azimuth_step: coarse azimuth spacing in degrees (elevation steps are the same, within ``elevations``).
        elevations: ``(low, high)`` elevation range searched, degrees.
        refine: search a finer grid (a quarter of the step) around the three best coarse views.

    Returns:
        :class:`CameraFit` with a camera whose image is the photo's ``W x H`` pixels.
    """
    mask = np.asarray(mask, bool)
    if mask.ndim != 2:
        raise InputError(f"mask must be a 2D (H, W) array, got shape {mask.shape}")
    if mesh is None or len(mesh.faces) == 0:
        raise InputError("cannot fit a camera to an empty mesh")
    if not 0.0 < azimuth_step <= 90.0 or not 8 <= size <= 512:
        raise InputError(f"camera fit needs 0 < azimuth_step <= 90 and 8 <= size <= 512, got {azimuth_step}, {size}")
    from lift3d.data.render import fit_distance
    from lift3d.geometry.voxels import raycasting_scene

    box = _crop_box(mask)
    target = _crop_mask(mask, box, size)[None]
    verts = np.asarray(mesh.vertices, np.float64)
    if len(verts) > 4096:  # the crop only needs the outline's extent; a subsample of vertices is plenty
        verts = verts[np.random.default_rng(0).choice(len(verts), 4096, replace=False)]
    scene, dist = raycasting_scene(mesh), fit_distance(fov_deg)
    lo, hi = elevations
    coarse = [(float(az), float(el)) for az in np.arange(0.0, 360.0, azimuth_step)
              for el in np.linspace(lo, hi, max(2, int(round((hi - lo) / azimuth_step)) + 1))]
    sil, params = _silhouettes(scene, verts, coarse, dist, size, CROP_MARGIN)
    scores = _iou(sil, target)
    views = coarse
    if refine:
        step = azimuth_step / 4.0
        fine = {(round((az + da) % 360.0, 6), float(np.clip(el + de, lo, hi)))
                for i in np.argsort(-scores)[:3] for az, el in [coarse[i]]
                for da in np.arange(-2, 3) * step for de in np.arange(-2, 3) * step}
        fine_views = sorted(fine)
        fsil, fparams = _silhouettes(scene, verts, fine_views, dist, size, CROP_MARGIN)
        views, params = views + fine_views, params + fparams
        scores = np.concatenate([scores, _iou(fsil, target)])
    best = int(np.argmax(scores))
    if params[best] is None:
        raise InputError("cannot fit a camera: the mesh does not fit in front of any candidate view")
    K_crop, R, t = params[best]
    # Crop pixels -> photo pixels: u_photo = cx + (u_crop - size/2) * side / size.
    cx, cy, side = box
    a = side / size
    A = np.array([[a, 0.0, cx - a * size / 2.0], [0.0, a, cy - a * size / 2.0], [0.0, 0.0, 1.0]])
    cam = Camera(A @ K_crop, R, t, int(mask.shape[1]), int(mask.shape[0]))
    return CameraFit(cam, views[best][0], views[best][1], float(scores[best]))
