"""Mesh writers (GLB/glTF, OBJ, PLY, STL, OFF) through trimesh, atomically."""

from __future__ import annotations

import os
from pathlib import Path

import trimesh

from lift3d.errors import InputError
from lift3d.io.atomic import atomic_path
from lift3d.io.meshes import MESH_EXTENSIONS


def save_mesh(mesh: trimesh.Trimesh, path: str | os.PathLike) -> Path:
    """Write ``mesh`` in the format named by the extension (vertex colours and textures kept where the format
    has them: GLB/glTF, PLY, OBJ + MTL). A crash never leaves a partial file at ``path``."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in MESH_EXTENSIONS:
        raise InputError(f"unknown mesh format {ext or '(none)'!r} for {p}; use one of {', '.join(MESH_EXTENSIONS)}")
    if len(mesh.faces) == 0:
        raise InputError("refusing to write an empty mesh")
    if ext == ".obj" and isinstance(mesh.visual, trimesh.visual.TextureVisuals):
        # OBJ textures live in side files (MTL + image): trimesh writes them next to the OBJ.
        text, extra = trimesh.exchange.obj.export_obj(mesh, include_texture=True, return_texture=True,
                                                      mtl_name=f"{p.stem}.mtl")
        # trimesh names texture images material_0.png...: prefix them with the OBJ's stem so two textured OBJs
        # in one folder do not overwrite each other's images, and point the MTL at the new names.
        mtl = f"{p.stem}.mtl"
        images = {name: f"{p.stem}_{name}" for name in extra if name != mtl}
        for old, new in images.items():
            extra[mtl] = extra[mtl].replace(f" {old}".encode(), f" {new}".encode())
        for name, data in extra.items():
            with atomic_path(p.parent / images.get(name, name)) as tmp:
                tmp.write_bytes(data)
        with atomic_path(p) as tmp:
            tmp.write_text(text)
        return p
    if ext == ".gltf":
        # trimesh would write side files with fixed names (gltf_buffer_0.bin...) non-atomically, so two
        # .gltf files in one folder would overwrite each other's buffers: embed them (one self-contained file).
        data = trimesh.exchange.gltf.export_gltf(mesh, embed_buffers=True)["model.gltf"]
        with atomic_path(p) as tmp:
            tmp.write_bytes(data)
        return p
    with atomic_path(p) as tmp:
        mesh.export(tmp, file_type=ext[1:])
    return p
