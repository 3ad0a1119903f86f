"""Mesh reading (OBJ, PLY, STL, OFF, GLB/glTF) through trimesh, with checks a user can act on."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import trimesh

from lift3d.errors import FormatError, InputError

MESH_EXTENSIONS = (".obj", ".ply", ".stl", ".off", ".glb", ".gltf")


def load_mesh(path: str | os.PathLike) -> trimesh.Trimesh:
    """Read a mesh file -> one ``trimesh.Trimesh`` (scenes are concatenated, transforms applied).

    Raises :class:`InputError` for a missing file or unknown extension and :class:`FormatError` for bytes
    that are not a mesh, an empty mesh or non-finite vertices.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {p}")
    ext = p.suffix.lower()
    if ext not in MESH_EXTENSIONS:
        raise InputError(f"unknown mesh format {ext or '(none)'!r} for {p}; use one of {', '.join(MESH_EXTENSIONS)}")
    try:
        loaded = trimesh.load(p, force="mesh", process=False)
    except Exception as exc:  # trimesh raises many exception types for malformed files
        raise FormatError(f"{p} is not a readable {ext[1:].upper()} mesh: {exc.__class__.__name__}: {exc}") from exc
    if isinstance(loaded, trimesh.Scene):
        loaded = loaded.to_mesh() if loaded.geometry else trimesh.Trimesh()
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.vertices) == 0 or len(loaded.faces) == 0:
        raise FormatError(f"{p} contains no triangles (empty mesh or not a mesh file)")
    if not np.isfinite(loaded.vertices).all():
        raise FormatError(f"{p} has NaN or infinite vertex coordinates")
    loaded.merge_vertices()  # STL stores three corners per face: weld them so topology (watertight) is right
    return loaded
