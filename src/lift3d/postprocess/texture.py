"""Colour a reconstructed mesh from the input photos taken by known (or fitted) cameras.

Two outputs:

* :func:`bake_texture` - a UV atlas (xatlas) and a texture image: every texel's 3D point is projected into
  each view, kept where the view really sees it (in front, inside the image and the optional mask, facing the
  camera, and not occluded: depth test by Open3D ray casting) and coloured by blending the views that see it,
  weighted by how head-on they see it (cos^4 of the angle between normal and view ray). Texels no view sees are
  filled by :mod:`lift3d.postprocess.texture_fill` (mirror symmetry, then interpolation); the empty gutter
  between UV charts takes the nearest texel's colour (so bilinear lookups and mip-maps never bleed background
  into the model).
* :func:`vertex_colors_from_views` - the same per vertex, with no atlas: cheap, but colour detail is limited
  to the vertex spacing.

Cameras follow :mod:`lift3d.geometry.cameras` (OpenCV, world-to-camera ``R, t``, intrinsics ``K``, pixel
centres at integer + 0.5). Images are ``(H, W, 3)`` uint8 or float in [0, 1], one per camera, with ``H, W``
equal to the camera's ``height, width``. Lighting baked into the photos stays in the texture.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import trimesh

from lift3d.errors import InputError
from lift3d.geometry.cameras import Camera, project

MIN_COS = 0.05  # surfaces seen more edge-on than ~87 degrees are not coloured from that view
BLEND_POWER = 4.0  # view weight cos^p: a view 30 degrees off counts 0.56, 60 degrees off 0.06
UNSEEN_GREY = 0.5


def _as_float_image(image: np.ndarray, cam: Camera, index: int) -> np.ndarray:
    """Validate one photo -> ``(H, W, 3)`` float32 in [0, 1]."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise InputError(f"image {index}: expected an (H, W, 3) RGB array, got shape {img.shape}")
    if img.shape[:2] != (cam.height, cam.width):
        raise InputError(f"image {index} is {img.shape[1]}x{img.shape[0]} but its camera expects "
                         f"{cam.width}x{cam.height}")
    img = img[..., :3]
    if img.dtype == np.uint8:
        return img.astype(np.float32) / 255.0
    img = img.astype(np.float32)
    if not np.isfinite(img).all():
        raise InputError(f"image {index} contains NaN or infinite values")
    return np.clip(img, 0.0, 1.0)


def _check_views(mesh: trimesh.Trimesh, images: Sequence[np.ndarray], cameras: Sequence[Camera],
                 masks: Sequence[np.ndarray] | None) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    if mesh is None or len(mesh.vertices) == 0 or len(mesh.faces) == 0:
        raise InputError("mesh is empty (no vertices or no faces)")
    if len(images) == 0 or len(images) != len(cameras):
        raise InputError(f"need one camera per image, got {len(images)} images and {len(cameras)} cameras")
    if masks is not None and len(masks) != len(images):
        raise InputError(f"{len(masks)} masks given for {len(images)} images")
    imgs = [_as_float_image(im, cam, i) for i, (im, cam) in enumerate(zip(images, cameras, strict=True))]
    msks: list[np.ndarray | None] = [None] * len(imgs)
    if masks is not None:
        for i, (m, img) in enumerate(zip(masks, imgs, strict=True)):
            m = np.asarray(m, bool)
            if m.shape != img.shape[:2]:
                raise InputError(f"mask {i} has shape {m.shape}, its image {img.shape[:2]}")
            msks[i] = m
    return imgs, msks


def _bilinear(image: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Sample ``(H, W, C)`` at continuous pixel coords ``(N, 2)`` (centres at +0.5) -> ``(N, C)``."""
    from scipy import ndimage

    coords = np.stack([uv[:, 1] - 0.5, uv[:, 0] - 0.5])  # (row, col)
    return np.stack([ndimage.map_coordinates(image[..., c], coords, order=1, mode="nearest")
                     for c in range(image.shape[2])], axis=1)


def project_colours(points: np.ndarray, normals: np.ndarray, mesh: trimesh.Trimesh,
                    images: Sequence[np.ndarray], cameras: Sequence[Camera],
                    masks: Sequence[np.ndarray | None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Colour surface points ``(N, 3)`` with unit normals ``(N, 3)`` by blending the views that see each.

    A view counts for a point when the point is in front of it, inside its image and its (eroded) mask, faces
    it at more than :data:`MIN_COS`, and is not occluded (a ray from the camera centre to the point, cast
    against ``mesh``, hits nothing closer). Seeing views are blended with weight ``cos^BLEND_POWER`` (the angle
    between the normal and the direction to the camera), so head-on views dominate and seams between views are
    soft. ``images`` must already be ``(H, W, 3)`` float (see :func:`bake_texture`). Returns ``colours (N, 3)``
    float32 (0 where unseen) and ``seen (N,)`` bool.
    """
    import open3d as o3d
    from scipy import ndimage

    from lift3d.geometry.voxels import raycasting_scene

    scene = raycasting_scene(mesh)
    eps = 2e-3 * float(np.linalg.norm(mesh.extents))  # depth-test slack
    pts = np.asarray(points, np.float64)
    acc = np.zeros((len(pts), 3), np.float64)
    wsum = np.zeros(len(pts), np.float64)
    masks = masks if masks is not None else [None] * len(images)
    for img, cam, mask in zip(images, cameras, masks, strict=True):
        to_cam = cam.center[None, :] - pts
        dist = np.linalg.norm(to_cam, axis=1)
        cos = np.einsum("ij,ij->i", normals, to_cam) / np.maximum(dist, 1e-12)
        uv, z = project(pts, cam)
        cand = (cos > MIN_COS) & (z > 0) & np.all((uv >= 0) & (uv < [cam.width, cam.height]), axis=1)
        if mask is not None:
            # One pixel in from the outline: bilinear lookups there would mix in the background.
            inner = ndimage.binary_erosion(mask) if min(mask.shape) >= 32 else mask
            pix = np.floor(uv[cand]).astype(np.int64)
            cand[np.nonzero(cand)[0][~inner[pix[:, 1], pix[:, 0]]]] = False
        idx = np.nonzero(cand)[0]
        if len(idx) == 0:
            continue
        dirs = -to_cam[idx] / dist[idx, None]
        rays = np.concatenate([np.broadcast_to(cam.center, dirs.shape), dirs], axis=1).astype(np.float32)
        t_hit = scene.cast_rays(o3d.core.Tensor(rays))["t_hit"].numpy()
        idx = idx[t_hit >= dist[idx] - eps]
        w = cos[idx] ** BLEND_POWER
        acc[idx] += w[:, None] * _bilinear(img, uv[idx])
        wsum[idx] += w
    seen = wsum > 0
    colours = np.zeros((len(pts), 3), np.float32)
    colours[seen] = acc[seen] / wsum[seen, None]
    return colours, seen


def vertex_colors_from_views(mesh: trimesh.Trimesh, images: Sequence[np.ndarray], cameras: Sequence[Camera],
                             masks: Sequence[np.ndarray] | None = None, symmetry: bool = True,
                             delight: bool = False) -> trimesh.Trimesh:
    """A copy of ``mesh`` (vertices ``(V, 3)``, faces ``(F, 3)``) with RGBA uint8 vertex colours ``(V, 4)``
    projected from the views; vertices no view sees are filled by :func:`lift3d.postprocess.texture_fill.fill_unseen`
    (its fractions in ``out.metadata["texture"]``)."""
    from lift3d.postprocess.texture_fill import fill_unseen

    imgs, msks = _check_views(mesh, images, cameras, masks)
    normals = np.asarray(mesh.vertex_normals, np.float64)
    colours, seen = project_colours(mesh.vertices, normals, mesh, imgs, cameras, msks)
    shading = {}
    if delight:
        from lift3d.postprocess.delight import remove_shading

        colours, shading = remove_shading(colours, normals, seen)
    colours, stats = fill_unseen(np.asarray(mesh.vertices), normals, colours, seen, symmetry=symmetry)
    stats.update({f"delight_{k}": v for k, v in shading.items()})
    out = trimesh.Trimesh(mesh.vertices.copy(), mesh.faces.copy(), process=False)
    out.metadata["texture"] = stats
    rgba = np.concatenate([np.round(colours * 255), np.full((len(colours), 1), 255)], axis=1)
    out.visual = trimesh.visual.ColorVisuals(out, vertex_colors=rgba.astype(np.uint8))
    return out


def uv_atlas(mesh: trimesh.Trimesh, texture_size: int = 512,
             padding: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """xatlas UV parametrisation -> ``vmapping (V',)`` (original vertex of each new vertex), ``faces (F, 3)``
    (same order as the input faces) and ``uv (V', 2)`` in [0, 1] (v up, trimesh/glTF convention)."""
    import xatlas

    atlas = xatlas.Atlas()
    atlas.add_mesh(np.asarray(mesh.vertices, np.float32), np.asarray(mesh.faces, np.uint32),
                   np.asarray(mesh.vertex_normals, np.float32))
    pack = xatlas.PackOptions()
    pack.resolution = int(texture_size)
    pack.padding = int(padding)
    pack.bilinear = True
    atlas.generate(pack_options=pack)
    vmapping, faces, uv = atlas[0]
    return vmapping.astype(np.int64), faces.astype(np.int64), uv.astype(np.float64)


def rasterize_uv(faces: np.ndarray, uv: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Which triangle covers each texel centre of a ``size x size`` texture, and where.

    Uses Open3D ray casting on the flat UV layout (one ray per texel) instead of a hand-written rasteriser.
    Returns ``face (size, size)`` int64 (-1 = no triangle) and barycentrics ``(size, size, 3)``; row 0 is the
    top of the image (v = 1).
    """
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    flat = np.concatenate([uv * size, np.zeros((len(uv), 1))], axis=1)
    scene.add_triangles(o3d.core.Tensor(flat.astype(np.float32)), o3d.core.Tensor(faces.astype(np.uint32)))
    cols, rows = np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5)
    origins = np.stack([cols, size - rows, np.ones_like(cols)], axis=-1).reshape(-1, 3)
    rays = np.concatenate([origins, np.tile([0.0, 0.0, -1.0], (len(origins), 1))], axis=1)
    hit = scene.cast_rays(o3d.core.Tensor(rays.astype(np.float32)))
    ids = hit["primitive_ids"].numpy().astype(np.int64)
    face = np.where(ids == o3d.t.geometry.RaycastingScene.INVALID_ID, -1, ids).reshape(size, size)
    b = hit["primitive_uvs"].numpy().astype(np.float64)  # point = (1-b0-b1) v0 + b0 v1 + b1 v2
    bary = np.stack([1.0 - b[:, 0] - b[:, 1], b[:, 0], b[:, 1]], axis=1).reshape(size, size, 3)
    return face, bary


def bake_texture(mesh: trimesh.Trimesh, images: Sequence[np.ndarray], cameras: Sequence[Camera],
                 texture_size: int = 512, masks: Sequence[np.ndarray] | None = None,
                 padding: int = 4, symmetry: bool = True, delight: bool = False) -> trimesh.Trimesh:
    """Texture-map ``mesh`` from photos with known cameras.

    Args:
        mesh: vertices ``(V, 3)``, faces ``(F, 3)`` in the cameras' world frame.
        images: one ``(H, W, 3)`` uint8 or float [0, 1] RGB photo per camera.
        cameras: :class:`lift3d.geometry.cameras.Camera` per photo.
        texture_size: side of the square texture in pixels.
        masks: optional ``(H, W)`` bool foreground masks; background pixels never colour the mesh.
        padding: texels between UV charts.
        symmetry: fill texels no view sees from their mirror image first (see
            :func:`lift3d.postprocess.texture_fill.fill_unseen`), then by interpolation.
        delight: divide the photos' smooth shading out of the colours first
            (:func:`lift3d.postprocess.delight.remove_shading`).

    Returns:
        A new mesh (vertices split along UV seams, ``(V', 3)``, faces ``(F, 3)`` in the input order) with
        ``TextureVisuals`` (``uv (V', 2)`` and an RGB ``texture_size^2`` image); ``mesh.export("x.glb")``
        writes it with the texture embedded. ``out.metadata["texture"]`` holds the fractions of texels seen,
        mirrored and interpolated.
    """
    from PIL import Image
    from scipy import ndimage

    from lift3d.postprocess.texture_fill import fill_unseen, symmetry_planes

    if not 16 <= texture_size <= 8192:
        raise InputError(f"texture_size must be in [16, 8192], got {texture_size}")
    imgs, msks = _check_views(mesh, images, cameras, masks)
    vmapping, faces, uv = uv_atlas(mesh, texture_size, padding)
    verts = np.asarray(mesh.vertices, np.float64)[vmapping]

    face, bary = rasterize_uv(faces, uv, texture_size)
    covered = face >= 0
    tri = faces[face[covered]]  # (T, 3) vertex ids of each covered texel's triangle
    w = bary[covered][:, :, None]
    points = (verts[tri] * w).sum(axis=1)
    # Face normals, not interpolated vertex normals: how well a view sees a texel depends on the actual
    # triangle's slant; smoothed normals near sharp edges would pick views that see the face edge-on.
    normals = np.asarray(mesh.face_normals, np.float64)[face[covered]]

    colours, seen = project_colours(points, normals, mesh, imgs, cameras, msks)
    shading = {}
    if delight:
        from lift3d.postprocess.delight import remove_shading

        colours, shading = remove_shading(colours, normals, seen)
    # Unseen texels are filled on every other row and column only (a quarter of the KD-tree queries: 2.3 s -> 0.6 s
    # at 1024^2); the texels between take their nearest filled neighbour, at most 1.5 texels away.
    rows, cols = np.nonzero(covered)
    keep = seen | ((rows % 2 == 0) & (cols % 2 == 0))
    planes = symmetry_planes(trimesh.sample.sample_surface(mesh, 8000, seed=0)[0]) if symmetry else None
    filled, stats = fill_unseen(points[keep], normals[keep], colours[keep], seen[keep], symmetry=symmetry,
                                planes=planes)
    # Fractions over all covered texels (the filled subset holds every seen texel but a quarter of the unseen).
    unseen = 1.0 - float(seen.mean())
    share = float(keep.sum()) / max(int((~seen[keep]).sum()), 1)
    stats.update(seen=1.0 - unseen, mirrored=unseen * stats["mirrored"] * share,
                 interpolated=unseen * stats["interpolated"] * share, **{f"delight_{k}": v for k, v in shading.items()})
    texture = np.full((texture_size, texture_size, 3), UNSEEN_GREY, np.float32)
    texture[rows[keep], cols[keep]] = filled
    known = np.zeros_like(covered)
    known[rows[keep], cols[keep]] = True
    # The rest of the covered texels and the gutter between charts: copy the nearest known texel.
    _, (ri, ci) = ndimage.distance_transform_edt(~known, return_indices=True)
    texture = texture[ri, ci]

    image = Image.fromarray(np.round(texture * 255).astype(np.uint8), mode="RGB")
    out = trimesh.Trimesh(verts, faces, process=False)
    # A PBR material with a white base-colour factor: trimesh's default SimpleMaterial exports a 0.4 grey factor
    # that every glTF viewer multiplies into the texture. Not metallic, fairly rough (a photo's diffuse look).
    material = trimesh.visual.material.PBRMaterial(baseColorTexture=image, baseColorFactor=[255, 255, 255, 255],
                                                   metallicFactor=0.0, roughnessFactor=0.8)
    out.visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
    out.metadata["texture"] = stats
    return out
