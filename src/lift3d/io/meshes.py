"""Mesh files through trimesh: GLB/glTF, OBJ, STL, OFF (and PLY, registered in ``points.py`` because it may also
hold a point cloud). Reads come with checks a user can act on; writes are atomic or go to a binary stream."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lift3d.errors import FormatError, InputError
from lift3d.io.atomic import Target, atomic_path, is_stream, write_output
from lift3d.io.checks import check_header, check_mesh
from lift3d.io.formats import FORMATS, FileFormat, extensions, target_ext

if TYPE_CHECKING:
    import trimesh


def load_mesh(path: str | os.PathLike) -> trimesh.Trimesh:
    """Read a mesh file -> one ``trimesh.Trimesh`` (scenes are concatenated, transforms applied).

    Raises :class:`InputError` for a missing file or unknown extension and :class:`FormatError` naming the file for
    bytes that are not a mesh, a header that promises more than the file holds, counts over the limits
    (:data:`lift3d.limits.MESH_FACES`, :data:`~lift3d.limits.MESH_VERTICES`), an empty mesh, NaN, infinite or
    absurd coordinates (:data:`~lift3d.limits.COORDINATE`), or a mesh with no surface (all faces zero-area).
    """
    import trimesh

    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {p}")
    ext = p.suffix.lower()
    known = extensions("mesh", readable=True)
    if ext not in known:
        raise InputError(f"unknown mesh format {ext or '(none)'!r} for {p}; use one of {', '.join(known)}")
    check_header(p)
    try:
        with np.errstate(all="ignore"):  # absurd values are refused below, with a message, not a warning
            loaded = trimesh.load(p, force="mesh", process=False)
    except Exception as exc:  # trimesh raises many exception types for malformed files
        raise FormatError(f"{p} is not a readable {ext[1:].upper()} mesh: {exc.__class__.__name__}: {exc}") from exc
    if isinstance(loaded, trimesh.Scene):
        loaded = loaded.to_mesh() if loaded.geometry else trimesh.Trimesh()
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.vertices) == 0 or len(loaded.faces) == 0:
        raise FormatError(f"{p} contains no triangles (empty mesh or not a mesh file)")
    check_mesh(loaded, str(p))
    loaded.merge_vertices()  # STL stores three corners per face: weld them so topology (watertight) is right
    return loaded


def save_mesh(mesh: trimesh.Trimesh, target: Target, fmt: str | None = None) -> Path | None:
    """Write ``mesh`` (vertices ``(V, 3)``, faces ``(F, 3)``) in the format named by ``fmt`` or the extension.

    Vertex colours and textures are kept where the format has them: GLB/glTF, PLY, OBJ + MTL. ``target`` is a path
    (a crash never leaves a partial file there; returns it) or a binary file object (``fmt`` required; returns None).
    A textured OBJ needs side files (MTL + images) and so cannot go to a stream: use .glb there.
    """
    import trimesh

    ext = target_ext(target, fmt)
    known = extensions("mesh", writable=True)
    if ext not in known:
        name = "<stream>" if is_stream(target) else Path(target)  # type: ignore[arg-type]
        raise InputError(f"unknown mesh format {ext or '(none)'!r} for {name}; use one of {', '.join(known)}")
    if len(mesh.faces) == 0:
        raise InputError("refusing to write an empty mesh")
    if ext == ".obj" and isinstance(mesh.visual, trimesh.visual.TextureVisuals):
        if is_stream(target):
            raise InputError("a textured OBJ needs side files (MTL + images): write it to a path, or stream .glb")
        _save_textured_obj(mesh, Path(target))  # type: ignore[arg-type]
    elif ext == ".gltf":
        # trimesh would write side files with fixed names (gltf_buffer_0.bin...) non-atomically, so two
        # .gltf files in one folder would overwrite each other's buffers: embed them (one self-contained file).
        write_output(target, trimesh.exchange.gltf.export_gltf(mesh, embed_buffers=True)["model.gltf"])
    else:
        data = mesh.export(file_type=ext[1:])
        write_output(target, data.encode("utf-8") if isinstance(data, str) else data)
    return None if is_stream(target) else Path(target)  # type: ignore[arg-type]


def _save_textured_obj(mesh: trimesh.Trimesh, p: Path) -> None:
    """OBJ textures live in side files (MTL + image) written next to the OBJ, each atomically."""
    import trimesh

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


for _ext, _desc in ((".glb", "binary glTF"), (".gltf", "glTF, buffers embedded"),
                    (".obj", "Wavefront OBJ (+ MTL and texture images)"), (".stl", "STL"), (".off", "OFF")):
    FORMATS.register(_ext, FileFormat(f"{_desc} mesh", readers={"mesh": load_mesh}, writers={"mesh": save_mesh}))
