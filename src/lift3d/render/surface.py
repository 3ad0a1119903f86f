"""What a ray hit looks like: albedo and shading normal at a point of a triangle, from a trimesh's visuals.

A hit is a face id and the barycentric weights of its three corners (Open3D's ``primitive_uvs`` ``(b1, b2)`` give
``w = (1 - b1 - b2, b1, b2)``). Colour comes from the mesh's own visuals, in this order:

* ``TextureVisuals`` with UVs and an image: the corners' UVs are interpolated and the image is sampled bilinearly
  (glTF/trimesh convention: ``v`` points up, row 0 is the top of the image; ``REPEAT`` wrapping, glTF's default),
  times a PBR material's ``baseColorFactor``. An OBJ material's ``Kd`` is not multiplied in (most viewers show
  ``map_Kd`` alone); without an image the material's main colour (``baseColorFactor`` or ``Kd``) is used.
* ``ColorVisuals`` with vertex colours (barycentric interpolation) or face colours (constant per face).
* anything else: :data:`DEFAULT_COLOR`.

A ``color`` given by the caller overrides all of them. Colours are display (sRGB) values in [0, 1]; alpha is ignored.
"""

from __future__ import annotations

import numpy as np
import trimesh

DEFAULT_COLOR = (0.7, 0.7, 0.75)
"""Albedo of a mesh with no colours of its own (the grey of the reconstruct previews)."""
CREASE_DEG = 40.0
"""Auto-smooth angle: a face corner's shading normal averages the normals of the faces around its vertex that turn
less than this from the face's own (so a sphere looks round and a box keeps its edges)."""


def barycentric(primitive_uvs: np.ndarray) -> np.ndarray:
    """Open3D ``primitive_uvs (N, 2)`` -> corner weights ``(N, 3)`` (point = w0 v0 + w1 v1 + w2 v2)."""
    b = np.asarray(primitive_uvs, np.float64)
    return np.stack([1.0 - b[:, 0] - b[:, 1], b[:, 0], b[:, 1]], axis=1)


def _image_array(image) -> np.ndarray:
    """A PIL image (any mode) -> uint8 RGB ``(H, W, 3)``, row 0 = top (kept as bytes: a 8k texture stays 200 MB)."""
    arr = np.asarray(image.convert("RGB"), np.uint8)
    return arr.reshape(arr.shape[0], arr.shape[1], 3)


def sample_texture(texture: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear lookup of ``texture (H, W, C)`` (row 0 = top) at UVs ``(N, 2)`` (v up, repeat wrapping) -> float32
    ``(N, C)`` in the texture's units.

    Texel ``(row i, column j)`` has its centre at ``u = (j + 0.5) / W``, ``v = 1 - (i + 0.5) / H``.
    """
    h, w = texture.shape[:2]
    uv = np.nan_to_num(np.asarray(uv, np.float64))
    x = uv[:, 0] * w - 0.5
    y = (1.0 - uv[:, 1]) * h - 0.5
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0).astype(np.float32)[:, None], (y - y0).astype(np.float32)[:, None]
    x0, y0 = x0.astype(np.int64) % w, y0.astype(np.int64) % h
    x1, y1 = (x0 + 1) % w, (y0 + 1) % h
    top = texture[y0, x0] * (1 - fx) + texture[y0, x1] * fx
    bottom = texture[y1, x0] * (1 - fx) + texture[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


class Surface:
    """Albedo and shading normals of one mesh (vertices ``(V, 3)``, faces ``(F, 3)``), prepared once for many
    renders (the texture is decoded once)."""

    def __init__(self, mesh: trimesh.Trimesh, color=None) -> None:
        self.faces = np.asarray(mesh.faces, np.int64)
        self._mesh = mesh
        self.uniform: np.ndarray | None = None
        self.texture: np.ndarray | None = None  # uint8 (H, W, 3), times factor / 255
        self.factor = np.full(3, 1.0 / 255.0, np.float32)
        self.uv: np.ndarray | None = None
        self.vertex_colors: np.ndarray | None = None
        self.face_colors: np.ndarray | None = None
        self._corner_normals: np.ndarray | None = None
        if color is not None:
            self.uniform = np.asarray(color, np.float32).reshape(-1)[:3]
            return
        visual = mesh.visual
        if isinstance(visual, trimesh.visual.TextureVisuals):
            self._from_material(visual)
        elif visual.kind == "vertex":
            self.vertex_colors = np.asarray(visual.vertex_colors, np.float32)[:, :3] / 255.0
        elif visual.kind == "face":
            self.face_colors = np.asarray(visual.face_colors, np.float32)[:, :3] / 255.0
        else:
            self.uniform = np.asarray(DEFAULT_COLOR, np.float32)

    def _from_material(self, visual: trimesh.visual.TextureVisuals) -> None:
        material = visual.material
        factor = np.ones(3, np.float32)
        image = getattr(material, "image", None)
        if isinstance(material, trimesh.visual.material.PBRMaterial):
            image = material.baseColorTexture
            if material.baseColorFactor is not None:
                factor = trimesh.visual.color.to_rgba(material.baseColorFactor)[:3].astype(np.float32) / 255.0
        uv = None if visual.uv is None else np.asarray(visual.uv, np.float64)
        if image is None or uv is None or len(uv) != len(self._mesh.vertices):
            main = np.asarray(material.main_color, np.float32)[:3] / 255.0 if material is not None else None
            self.uniform = main if main is not None else np.asarray(DEFAULT_COLOR, np.float32)
            return
        self.texture = _image_array(image)
        self.factor = factor / 255.0
        self.uv = uv

    @property
    def kind(self) -> str:
        """``texture`` | ``vertex`` | ``face`` | ``uniform``: where the colours come from."""
        if self.texture is not None:
            return "texture"
        return "vertex" if self.vertex_colors is not None else "face" if self.face_colors is not None else "uniform"

    def albedo(self, face: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Albedo ``(N, 3)`` float32 in [0, 1] at hits on faces ``(N,)`` with corner weights ``(N, 3)``."""
        if self.uniform is not None:
            return np.broadcast_to(self.uniform, (len(face), 3)).astype(np.float32)
        if self.face_colors is not None:
            return self.face_colors[face]
        corners = self.faces[face]
        if self.vertex_colors is not None:
            return np.einsum("nk,nkc->nc", weights, self.vertex_colors[corners]).astype(np.float32)
        uv = np.einsum("nk,nkc->nc", weights, self.uv[corners])
        return sample_texture(self.texture, uv) * self.factor

    def normals(self, face: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Unit shading normals ``(N, 3)`` at hits on faces ``(N,)`` with corner weights ``(N, 3)``: the corners'
        auto-smooth normals (:func:`corner_normals`) interpolated."""
        if self._corner_normals is None:
            self._corner_normals = corner_normals(self._mesh)
        n = np.einsum("nk,nkc->nc", weights, self._corner_normals[face])
        return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def corner_normals(mesh: trimesh.Trimesh, crease_deg: float = CREASE_DEG, chunk: int = 1 << 21) -> np.ndarray:
    """Auto-smooth normals per face corner ``(F, 3, 3)``: at corner ``(f, k)`` the area-weighted sum of the normals
    of the faces sharing its vertex that turn less than ``crease_deg`` from face ``f`` (see :data:`CREASE_DEG`)."""
    faces = np.asarray(mesh.faces, np.int64)
    tri = np.asarray(mesh.vertices, np.float64)[faces]
    area_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # (F, 3): normal x 2 area
    unit = area_n / np.maximum(np.linalg.norm(area_n, axis=1, keepdims=True), 1e-300)
    flat = faces.reshape(-1)
    order = np.argsort(flat, kind="stable")  # corners grouped by vertex
    count = np.bincount(flat, minlength=len(mesh.vertices))
    start = np.cumsum(count) - count
    cos = np.cos(np.radians(crease_deg))
    out = np.zeros((len(flat), 3))
    step = max(1, chunk // max(1, int(count.max())))
    for c0 in range(0, len(flat), step):  # corner -> every face around its vertex, in chunks to bound memory
        corners = np.arange(c0, min(len(flat), c0 + step))
        cnt = count[flat[corners]]
        rep = np.repeat(corners, cnt)
        offs = np.arange(len(rep)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        other = order[start[flat[rep]] + offs] // 3
        keep = np.einsum("nc,nc->n", unit[rep // 3], unit[other]) >= cos
        for d in range(3):
            out[:, d] += np.bincount(rep[keep], area_n[other[keep], d], minlength=len(flat))
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-300)
    return out.reshape(-1, 3, 3)
