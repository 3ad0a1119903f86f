"""trimesh meshes <-> Open3D triangle meshes (legacy ``open3d.geometry`` and tensor ``open3d.t.geometry``).

What travels: vertices ``(V, 3)``, faces ``(F, 3)``, vertex normals, vertex colours (RGB in [0, 1]; alpha is lost) and
one texture per material with its UVs.

* UVs: trimesh keeps one UV per vertex (``(V, 2)``), Open3D one per face corner (legacy ``triangle_uvs (3F, 2)``,
  tensor ``triangle.texture_uvs (F, 3, 2)``); both have ``v`` up. Coming back, a vertex whose corners disagree
  (a UV seam) is split into one vertex per UV.
* Texture images: the legacy mesh stores its ``textures`` bottom row first (Open3D flips images when it reads or
  writes a textured OBJ/glTF), the tensor mesh's ``material.texture_maps["albedo"]`` top row first, like trimesh.
  Several legacy textures (``triangle_material_ids``) come back as one trimesh with the textures packed together.
* A glTF ``baseColorFactor``: tensor ``material.vector_properties["base_color"]``; the legacy mesh has no such field,
  so a factor other than white is multiplied into its texture.
* Face colours (Open3D has none): each face gets its own three vertices carrying its colour (exact colours, more
  vertices). A textured mesh's vertex colours are dropped (a trimesh has one kind of visuals).
* Dtypes: legacy meshes are float64 (exact), tensor meshes Float32 positions/normals/colours and Int64 indices
  (Open3D's own readers' types; what ``RaycastingScene`` and the renderers expect).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import trimesh

if TYPE_CHECKING:
    import open3d as o3d


def _parts(mesh: trimesh.Trimesh) -> dict:
    """Arrays of a trimesh: verts, faces, normals, colors (V, 3) float | None, uv (V, 2) | None, texture (H, W, 3)
    uint8 | None (top row first), factor (4,) float."""
    verts, faces = np.array(mesh.vertices, np.float64), np.array(mesh.faces, np.int64)  # copies: writable
    out = {"verts": verts, "faces": faces, "normals": np.array(mesh.vertex_normals, np.float64),
           "colors": None, "uv": None, "texture": None, "factor": np.ones(4)}
    visual = mesh.visual
    if isinstance(visual, trimesh.visual.TextureVisuals):
        material = visual.material
        image = getattr(material, "image", None)
        if isinstance(material, trimesh.visual.material.PBRMaterial):
            image = material.baseColorTexture
            if material.baseColorFactor is not None:
                out["factor"] = trimesh.visual.color.to_rgba(material.baseColorFactor) / 255.0
        if image is not None and visual.uv is not None and len(visual.uv) == len(verts):
            out["uv"] = np.asarray(visual.uv, np.float64)
            out["texture"] = np.asarray(image.convert("RGB"), np.uint8)
    elif visual.kind == "vertex":
        out["colors"] = np.asarray(visual.vertex_colors, np.float64)[:, :3] / 255.0
    elif visual.kind == "face":  # one vertex per face corner, coloured like its face
        corners = faces.reshape(-1)
        out.update(verts=verts[corners], faces=np.arange(len(corners)).reshape(-1, 3),
                   normals=out["normals"][corners],
                   colors=np.repeat(np.asarray(visual.face_colors, np.float64)[:, :3] / 255.0, 3, axis=0))
    return out


def mesh_to_legacy(mesh: trimesh.Trimesh) -> o3d.geometry.TriangleMesh:
    """trimesh -> ``open3d.geometry.TriangleMesh`` (see the module notes)."""
    import open3d as o3d

    p = _parts(mesh)
    out = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(p["verts"]),
                                    o3d.utility.Vector3iVector(p["faces"].astype(np.int32)))
    out.vertex_normals = o3d.utility.Vector3dVector(p["normals"])
    if p["colors"] is not None:
        out.vertex_colors = o3d.utility.Vector3dVector(p["colors"])
    if p["uv"] is not None:
        texture = p["texture"]
        if not np.allclose(p["factor"][:3], 1.0):
            texture = np.round(texture * p["factor"][:3]).astype(np.uint8)
        out.triangle_uvs = o3d.utility.Vector2dVector(p["uv"][p["faces"]].reshape(-1, 2))
        out.textures = [o3d.geometry.Image(np.ascontiguousarray(texture[::-1]))]
        out.triangle_material_ids = o3d.utility.IntVector(np.zeros(len(p["faces"]), np.int32))
    return out


def mesh_to_tensor(mesh: trimesh.Trimesh) -> o3d.t.geometry.TriangleMesh:
    """trimesh -> ``open3d.t.geometry.TriangleMesh`` (see the module notes)."""
    import open3d as o3d

    p = _parts(mesh)
    f32 = (lambda a: o3d.core.Tensor(np.ascontiguousarray(a, np.float32)))  # noqa: E731
    out = o3d.t.geometry.TriangleMesh(f32(p["verts"]), o3d.core.Tensor(np.ascontiguousarray(p["faces"])))
    out.vertex.normals = f32(p["normals"])
    if p["colors"] is not None:
        out.vertex.colors = f32(p["colors"])
    if p["uv"] is not None:
        out.triangle.texture_uvs = f32(p["uv"][p["faces"]])
        out.material.set_default_properties()
        out.material.material_name = "defaultLit"
        out.material.texture_maps["albedo"] = o3d.t.geometry.Image(o3d.core.Tensor(np.ascontiguousarray(p["texture"])))
        out.material.vector_properties["base_color"] = np.asarray(p["factor"], np.float32)
    return out


def _per_vertex_uv(faces: np.ndarray, corner_uv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Faces ``(F, 3)`` and corner UVs ``(F, 3, 2)`` -> ``(vmap (V',), faces (F, 3), uv (V', 2))``: new vertex ``i``
    is old vertex ``vmap[i]``. Vertices are kept as they are when every corner of a vertex has one UV."""
    ids, cuv = faces.reshape(-1), corner_uv.reshape(-1, 2)
    n = int(ids.max()) + 1 if len(ids) else 0
    uv = np.zeros((n, 2))
    uv[ids] = cuv
    if np.array_equal(uv[ids], cuv):
        return np.arange(n), faces, uv
    keys = np.concatenate([ids[:, None].astype(np.float64), cuv], axis=1)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    return uniq[:, 0].astype(np.int64), inverse.reshape(-1, 3), uniq[:, 1:]


def _rgb8(texture: np.ndarray) -> np.ndarray:
    """An Open3D image array (grey or colour, uint8 or float in [0, 1]) -> RGB uint8 ``(H, W, 3)``."""
    t = np.asarray(texture)
    if t.dtype != np.uint8:
        t = np.round(np.clip(t, 0, 1) * 255).astype(np.uint8)
    t = t.reshape(t.shape[0], t.shape[1], -1)
    return np.ascontiguousarray(np.repeat(t, 3, axis=2) if t.shape[2] == 1 else t[..., :3])


def _build(verts: np.ndarray, faces: np.ndarray, normals: np.ndarray | None, colors: np.ndarray | None,
           corner_uv: np.ndarray | None, texture: np.ndarray | None, factor: np.ndarray | None) -> trimesh.Trimesh:
    """A trimesh from Open3D arrays; ``texture (H, W[, C])`` top row first, ``corner_uv (F, 3, 2)``."""
    from PIL import Image

    if corner_uv is None or texture is None:
        mesh = trimesh.Trimesh(verts, faces, vertex_normals=normals, process=False)
        if colors is not None:
            rgba = np.concatenate([np.round(np.clip(colors, 0, 1) * 255), np.full((len(colors), 1), 255)], axis=1)
            mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=rgba.astype(np.uint8))
        return mesh
    vmap, faces, uv = _per_vertex_uv(faces, corner_uv)
    image = Image.fromarray(_rgb8(texture))
    # A PBR material with an explicit factor: trimesh's SimpleMaterial would export its default 0.4 grey
    # diffuse as glTF baseColorFactor, darkening the texture in every viewer.
    rgba = np.round(np.clip(np.ones(4) if factor is None else np.asarray(factor, np.float64), 0, 1) * 255)
    material = trimesh.visual.material.PBRMaterial(baseColorTexture=image, baseColorFactor=rgba.astype(np.uint8))
    mesh = trimesh.Trimesh(verts[vmap], faces, vertex_normals=None if normals is None else normals[vmap],
                           process=False)
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
    return mesh


def mesh_from_legacy(geom: o3d.geometry.TriangleMesh) -> trimesh.Trimesh:
    """``open3d.geometry.TriangleMesh`` -> trimesh (see the module notes)."""
    verts, faces = np.asarray(geom.vertices, np.float64), np.asarray(geom.triangles, np.int64)
    normals = np.asarray(geom.vertex_normals, np.float64) if geom.has_vertex_normals() else None
    colors = np.asarray(geom.vertex_colors, np.float64) if geom.has_vertex_colors() else None
    if not (geom.has_triangle_uvs() and geom.has_textures()):
        return _build(verts, faces, normals, colors, None, None, None)
    corner_uv = np.asarray(geom.triangle_uvs, np.float64).reshape(-1, 3, 2)
    textures = [np.asarray(t)[::-1] for t in geom.textures]
    ids = np.asarray(geom.triangle_material_ids, np.int64) if geom.has_triangle_material_ids() else None
    if ids is None or len(textures) == 1 or len(np.unique(ids)) == 1:
        k = 0 if ids is None or len(ids) == 0 else int(ids[0])
        return _build(verts, faces, normals, None, corner_uv, textures[k], None)
    parts = [_build(verts, faces[ids == k], normals, None, corner_uv[ids == k], textures[k], None)
             for k in np.unique(ids)]
    return trimesh.util.concatenate(parts)


def mesh_from_tensor(geom: o3d.t.geometry.TriangleMesh) -> trimesh.Trimesh:
    """``open3d.t.geometry.TriangleMesh`` -> trimesh (see the module notes)."""
    get = (lambda m, k: m[k].numpy() if k in m else None)  # noqa: E731
    verts = geom.vertex.positions.numpy().astype(np.float64)
    faces = geom.triangle.indices.numpy().astype(np.int64)
    normals, colors = get(geom.vertex, "normals"), get(geom.vertex, "colors")
    normals = None if normals is None else normals.astype(np.float64)
    colors = None if colors is None else colors.astype(np.float64)
    corner_uv = get(geom.triangle, "texture_uvs")
    if corner_uv is None and "texture_uvs" in geom.vertex:
        corner_uv = geom.vertex.texture_uvs.numpy()[faces]
    texture, factor = None, None
    if geom.has_valid_material() and "albedo" in geom.material.texture_maps:
        texture = geom.material.texture_maps["albedo"].as_tensor().numpy()
        if "base_color" in geom.material.vector_properties:
            factor = np.asarray(geom.material.vector_properties["base_color"], np.float64).reshape(-1)
    return _build(verts, faces, normals, colors, None if corner_uv is None else corner_uv.astype(np.float64),
                  texture, factor)
