"""Pinhole cameras: intrinsics ``K (3, 3)``, world-to-camera extrinsics ``[R | t]``.

Convention (OpenCV): camera x right, y down, z forward (looking along +z). A world point ``X`` maps to
camera coordinates ``Xc = R @ X + t`` and to pixels ``(u, v) = (K @ Xc)[:2] / Xc[2]``, with pixel centres
at integer + 0.5. Views are placed on a sphere around the origin by azimuth (about +Y, 0 = looking from
+Z) and elevation (above the XZ plane), in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Camera:
    """One calibrated view. ``K (3, 3)``, ``R (3, 3)``, ``t (3,)``; image ``width x height`` pixels."""

    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    width: int
    height: int

    @property
    def center(self) -> np.ndarray:
        """Camera centre in world coordinates ``(3,)``."""
        return -self.R.T @ self.t

    def to_dict(self) -> dict:
        """JSON-ready dict (the schema shared by synthetic and real datasets)."""
        return {
            "K": np.asarray(self.K, float).tolist(),
            "R": np.asarray(self.R, float).tolist(),
            "t": np.asarray(self.t, float).tolist(),
            "width": int(self.width),
            "height": int(self.height),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Camera:
        return cls(
            K=np.asarray(d["K"], dtype=np.float64),
            R=np.asarray(d["R"], dtype=np.float64),
            t=np.asarray(d["t"], dtype=np.float64),
            width=int(d["width"]),
            height=int(d["height"]),
        )


def intrinsics(width: int, height: int, fov_deg: float = 40.0) -> np.ndarray:
    """Pinhole ``K (3, 3)`` with square pixels, principal point at the image centre, horizontal FOV."""
    f = 0.5 * width / np.tan(np.radians(fov_deg) / 2.0)
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


def look_at(eye: np.ndarray, target: np.ndarray | None = None, up: np.ndarray | None = None):
    """World-to-camera ``(R (3, 3), t (3,))`` for a camera at ``eye`` looking at ``target`` (+Y up)."""
    eye = np.asarray(eye, dtype=np.float64)
    target = np.zeros(3) if target is None else np.asarray(target, dtype=np.float64)
    up = np.array([0.0, 1.0, 0.0]) if up is None else np.asarray(up, dtype=np.float64)
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, up)  # right = forward x up (y points down in the image)
    if np.linalg.norm(x) < 1e-8:  # looking straight along up: pick any perpendicular
        x = np.cross(z, np.array([0.0, 0.0, 1.0]))
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    R = np.stack([x, y, z])
    return R, -R @ eye


def spherical_eye(azimuth_deg: float, elevation_deg: float, distance: float) -> np.ndarray:
    """Camera centre ``(3,)`` on a sphere: azimuth about +Y (0 -> +Z side), elevation above XZ plane."""
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    return distance * np.array([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)])


def orbit_camera(azimuth_deg: float, elevation_deg: float, distance: float, width: int, height: int,
                 fov_deg: float = 40.0, roll_deg: float = 0.0, target=None) -> Camera:
    """A camera on the viewing sphere looking at ``target`` (default: the origin), rolled ``roll_deg`` about
    its optical axis (positive = the image turns counter-clockwise)."""
    tgt = np.zeros(3) if target is None else np.asarray(target, np.float64)
    R, t = look_at(spherical_eye(azimuth_deg, elevation_deg, distance) + tgt, tgt)
    if roll_deg:
        a = np.radians(roll_deg)
        Rz = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])
        R, t = Rz @ R, Rz @ t  # the camera centre -R^T t stays where it was
    return Camera(intrinsics(width, height, fov_deg), R, t, width, height)


def project(points: np.ndarray, cam: Camera) -> tuple[np.ndarray, np.ndarray]:
    """World points ``(N, 3)`` -> pixel coords ``(N, 2)`` and camera-space depth ``(N,)``."""
    xc = np.asarray(points, dtype=np.float64) @ cam.R.T + cam.t
    z = xc[:, 2]
    uv = xc @ cam.K.T
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = uv[:, :2] / uv[:, 2:3]
    return uv, z


def unproject(uv: np.ndarray, depth: np.ndarray, cam: Camera) -> np.ndarray:
    """Pixel coords ``(N, 2)`` with z-depth ``(N,)`` -> world points ``(N, 3)``."""
    uv1 = np.concatenate([np.asarray(uv, np.float64), np.ones((len(uv), 1))], axis=1)
    rays = uv1 @ np.linalg.inv(cam.K).T  # z = 1 in camera space
    xc = rays * np.asarray(depth, np.float64)[:, None]
    return (xc - cam.t) @ cam.R  # R^T (xc - t), row-wise


def pixel_rays(cam: Camera) -> tuple[np.ndarray, np.ndarray]:
    """Ray origins and unit directions ``(H, W, 3)`` through every pixel centre, in world space."""
    u, v = np.meshgrid(np.arange(cam.width) + 0.5, np.arange(cam.height) + 0.5)
    uv1 = np.stack([u, v, np.ones_like(u)], axis=-1).reshape(-1, 3)
    d_cam = uv1 @ np.linalg.inv(cam.K).T
    d_world = d_cam @ cam.R
    d_world /= np.linalg.norm(d_world, axis=1, keepdims=True)
    origins = np.broadcast_to(cam.center, d_world.shape)
    shape = (cam.height, cam.width, 3)
    return origins.reshape(shape).copy(), d_world.reshape(shape)


def depth_to_points(depth: np.ndarray, cam: Camera, mask: np.ndarray | None = None) -> np.ndarray:
    """Back-project a z-depth map ``(H, W)`` (0 or non-finite = no surface) -> world points ``(N, 3)``."""
    depth = np.asarray(depth, dtype=np.float64)
    valid = np.isfinite(depth) & (depth > 0)
    if mask is not None:
        valid &= np.asarray(mask, bool)
    v, u = np.nonzero(valid)
    uv = np.stack([u + 0.5, v + 0.5], axis=1)
    return unproject(uv, depth[v, u], cam).astype(np.float32)
