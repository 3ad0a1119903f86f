"""Fuzz the mesh reader (``load_mesh``) on every mesh format: OBJ, OFF, STL (ASCII and binary), PLY, GLB, glTF."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from hypothesis import given

from lift3d.io.meshes import load_mesh

from ._fuzz import fuzz_settings, inputs, isolated, must_succeed_or_refuse

_BOX = trimesh.creation.box(extents=(0.6, 0.4, 0.8))
SEEDS = {ext: (lambda d: d.encode() if isinstance(d, str) else d)(_BOX.export(file_type=kind))
         for ext, kind in ((".obj", "obj"), (".off", "off"), (".stl", "stl"), (".ply", "ply"), (".glb", "glb"))}
SEEDS[".gltf"] = trimesh.exchange.gltf.export_gltf(_BOX, embed_buffers=True)["model.gltf"]
SEEDS["ascii.stl"] = _BOX.export(file_type="stl_ascii").encode()
SEEDS["ascii.ply"] = _BOX.export(file_type="ply", encoding="ascii")


@pytest.mark.parametrize("ext", sorted(SEEDS))
def test_load_mesh_returns_a_mesh_or_refuses(ext: str, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("fuzz_mesh") / f"fuzz{ext}"

    @fuzz_settings(40)
    @given(inputs(SEEDS[ext]))
    def run(data: bytes) -> None:
        path.write_bytes(data)
        mesh = must_succeed_or_refuse(lambda: load_mesh(path))
        if mesh is not None:
            assert len(mesh.faces) > 0 and np.isfinite(mesh.vertices).all()
            assert mesh.faces.min() >= 0 and mesh.faces.max() < len(mesh.vertices)

    isolated(run, path)
