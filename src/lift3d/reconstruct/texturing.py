"""Colour a reconstruction from its own input photo(s): fit the cameras when they are unknown, then bake.

Modes (``--texture``):

* ``image``: a UV atlas and a texture image projected from the photo(s) (:func:`lift3d.postprocess.bake_texture`);
* ``vertex``: per-vertex colours projected the same way (cheaper, colour detail limited to the vertex spacing);
* ``flat``: one colour, the median of the photo's foreground;
* ``none``: geometry only;
* ``auto``: the richest the output format holds (:func:`mode_for`).

The camera-free models answer in the canonical frame, so each photo's camera is recovered by silhouette fitting
(:func:`lift3d.geometry.camera_fit.fit_camera`) unless the caller passes cameras in the mesh's frame.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh

from lift3d.errors import InputError
from lift3d.geometry.camera_fit import CameraFit, fit_camera
from lift3d.geometry.cameras import Camera

MODES = ("auto", "image", "vertex", "flat", "none")
IMAGE_FORMATS = (".glb", ".gltf", ".obj", ".usdz", ".usda", ".usdc")  # hold a UV texture
VERTEX_FORMATS = (".ply",)  # hold per-vertex colours
ATLAS_MAX_FACES = 25000  # xatlas takes seconds above this; the mesh is decimated for the atlas (see texture_mesh)


@dataclass
class Texturing:
    """The coloured mesh and how it was coloured: ``mode``, fitted ``fits`` (one per photo, empty when cameras
    were given or no projection was needed) and ``stats`` (fractions of the surface seen / mirrored /
    interpolated)."""

    mesh: trimesh.Trimesh
    mode: str
    fits: list[CameraFit] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)
    decimated_from: int = 0  # faces before the mesh was decimated for the atlas (0: not decimated)

    def summary(self) -> str:
        """One phrase for the CLI."""
        if self.mode in ("flat", "none"):
            return f"texture {self.mode}"
        parts = [f"texture {self.mode}"]
        if self.fits:
            views = ", ".join(f"az {f.azimuth:.0f} el {f.elevation:.0f} (IoU {f.iou:.2f})" for f in self.fits)
            parts.append(f"camera fit {views}")
        if self.decimated_from:
            parts.append(f"decimated {self.decimated_from} -> {len(self.mesh.faces)} faces for the atlas")
        if self.stats.get("delight_applied"):
            parts.append(f"shading removed (fit R^2 {self.stats['delight_r2']:.2f})")
        elif "delight_r2" in self.stats:
            parts.append(f"shading kept (normals explain only {self.stats['delight_r2']:.0%} of the brightness)")
        if self.stats:
            parts.append(f"{self.stats['seen']:.0%} seen, {self.stats['mirrored']:.0%} mirrored, "
                         f"{self.stats['interpolated']:.0%} filled")
        return "; ".join(parts)


def mode_for(path: str | os.PathLike, mode: str) -> str:
    """Resolve ``auto`` for an output file: ``image`` for GLB/glTF/OBJ, ``vertex`` for PLY, else ``none``.

    An explicit mode the format cannot hold is an :class:`InputError` (``image`` into PLY or STL, for example).
    """
    if mode not in MODES:
        raise InputError(f"unknown --texture {mode!r}; use one of {', '.join(MODES)}")
    ext = Path(path).suffix.lower()
    holds = ["image", "vertex", "flat", "none"] if ext in IMAGE_FORMATS else \
        ["vertex", "flat", "none"] if ext in VERTEX_FORMATS else ["none"]
    if mode == "auto":
        return holds[0]
    if mode not in holds:
        where = ", ".join(IMAGE_FORMATS) if mode == "image" else ", ".join(IMAGE_FORMATS + VERTEX_FORMATS)
        raise InputError(f"--texture {mode} cannot be stored in {ext or 'extension-less'} files (use {where}, "
                         "or --texture none)")
    return mode


def texture_mesh(mesh: trimesh.Trimesh, images: list[np.ndarray], masks: list[np.ndarray | None] | None = None,
                 mode: str = "image", cameras: list[Camera] | None = None, texture_size: int = 1024,
                 symmetry: bool = True, delight: bool = False) -> Texturing:
    """Colour ``mesh`` from the RGBA photos ``[(H, W, 4) uint8]`` it was reconstructed from.

    Args:
        mesh: the reconstruction, vertices ``(V, 3)`` and faces ``(F, 3)``.
        images: the input photos; masks: their bool ``(H, W)`` foregrounds (``None`` entries are computed).
        mode: ``image``, ``vertex``, ``flat`` or ``none`` (resolve ``auto`` first with :func:`mode_for`).
        cameras: one camera per photo in the mesh's frame; ``None`` fits them to the silhouettes.
        texture_size: side of the texture image (``image`` mode).
        symmetry: fill unseen surface from its mirror image where the shape is mirror-symmetric.
        delight: remove the photos' smooth shading from the colours (:mod:`lift3d.postprocess.delight`).

    Returns:
        :class:`Texturing`. In ``image`` mode a mesh over :data:`ATLAS_MAX_FACES` faces is decimated to it first
        (xatlas would take many seconds), which moves the surface by well under a voxel.
    """
    from lift3d.data.preprocess import foreground_mask

    if mode not in MODES[1:]:
        raise InputError(f"texture mode must be one of {', '.join(MODES[1:])}, got {mode!r}")
    if mode == "none":
        return Texturing(mesh, mode)
    if not images:
        raise InputError("texturing needs at least one photo")
    masks = list(masks) if masks else [None] * len(images)
    masks = [foreground_mask(im) if m is None else np.asarray(m, bool) for im, m in zip(images, masks, strict=True)]
    if mode == "flat":
        from lift3d.reconstruct.outputs import object_color

        out = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
        out.visual.vertex_colors = np.tile(np.asarray(object_color(images[0], masks[0]), np.uint8),
                                           (len(out.vertices), 1))
        return Texturing(out, mode)
    fits: list[CameraFit] = []
    if cameras is None:
        fits = [fit_camera(mesh, m) for m in masks]
        cameras = [f.camera for f in fits]
    elif len(cameras) != len(images):
        raise InputError(f"{len(cameras)} cameras given for {len(images)} photos")
    rgbs = [im[..., :3] for im in images]
    if mode == "vertex":
        from lift3d.postprocess.texture import vertex_colors_from_views

        out = vertex_colors_from_views(mesh, rgbs, cameras, masks, symmetry=symmetry, delight=delight)
    else:
        from lift3d.postprocess.simplify import decimate
        from lift3d.postprocess.texture import bake_texture

        src = decimate(mesh, target_faces=ATLAS_MAX_FACES) if len(mesh.faces) > ATLAS_MAX_FACES else mesh
        out = bake_texture(src, rgbs, cameras, texture_size=texture_size, masks=masks, symmetry=symmetry,
                           delight=delight)
    decimated = len(mesh.faces) if mode == "image" and len(mesh.faces) > ATLAS_MAX_FACES else 0
    return Texturing(out, mode, fits, dict(out.metadata.get("texture", {})), decimated)
