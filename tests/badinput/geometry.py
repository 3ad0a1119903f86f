"""Mesh, point and voxel file cases, each through ``lift3d info`` and one or more ``lift3d convert`` targets."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .cases import Case, Shared, out, pickle_payload, write

Content = Callable[[Path], bytes | str]  # content(case_dir) -> the file's bytes or text

# command -> argv after the input path: info, and convert to voxels / points / a mesh / a point-cloud file
COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "info": lambda d: [],
    "voxels": lambda d: [out(d, "out.binvox"), "--res", "16"],
    "points": lambda d: [out(d, "out.xyz"), "--points", "500"],
    "mesh": lambda d: [out(d, "out.obj")],
    "cloud": lambda d: [out(d, "out.pcd")],
}

CREATES = {"voxels": "out/out.binvox", "points": "out/out.xyz", "mesh": "out/out.obj", "cloud": "out/out.pcd"}



def _t(text: str) -> Content:
    return lambda d: text


def _b(data: bytes) -> Content:
    return lambda d: data


def _spec(file: str, content: Content, message: str | None = None, pending: dict[str, str] | None = None,
          **codes: int) -> tuple:
    return file, content, codes, message, pending or {}


def _obj(verts: str, faces: str = "f 1 2 3\n") -> Content:
    return _t(verts + faces)


TRI = "v 0 0 0\nv 1 0 0\nv 0 1 0\n"
BOX_OBJ = ("v -0.3 -0.2 -0.4\nv 0.3 -0.2 -0.4\nv 0.3 0.2 -0.4\nv -0.3 0.2 -0.4\nv -0.3 -0.2 0.4\nv 0.3 -0.2 0.4\n"
           "v 0.3 0.2 0.4\nv -0.3 0.2 0.4\n")
BOX_QUADS = "f 1 4 3 2\nf 5 6 7 8\nf 1 2 6 5\nf 2 3 7 6\nf 3 4 8 7\nf 4 1 5 8\n"


def _box(fmt: str, scale: float = 1.0) -> Content:
    def make(d: Path) -> bytes:
        import trimesh

        data = trimesh.creation.box(extents=(0.6 * scale, 0.4 * scale, 0.8 * scale)).export(file_type=fmt)
        return data.encode() if isinstance(data, str) else data
    return make


def _ply_header(vertices: int | str, faces: int | str | None, fmt: str = "ascii") -> str:
    face = f"element face {faces}\nproperty list uchar int vertex_indices\n" if faces is not None else ""
    return (f"ply\nformat {fmt} 1.0\nelement vertex {vertices}\nproperty float x\nproperty float y\n"
            f"property float z\n{face}end_header\n")


def _stl_binary(count: int, triangles: int) -> Content:
    tri = struct.pack("<12fH", 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0)
    return _b(b"\0" * 80 + struct.pack("<I", count) + tri * triangles)


def _garbage(n: int = 2048, magic: bytes = b"") -> Content:
    return _b(magic + np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes())


def _gltf_missing_buffer(d: Path) -> str:
    return ('{"asset": {"version": "2.0"}, "buffers": [{"uri": "missing.bin", "byteLength": 36}], '
            '"bufferViews": [{"buffer": 0, "byteLength": 36}], "accessors": [{"bufferView": 0, '
            '"componentType": 5126, "count": 3, "type": "VEC3"}], "meshes": [{"primitives": [{"attributes": '
            '{"POSITION": 0}}]}], "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0}')


MESHES: dict[str, tuple] = {
    "empty_obj": _spec("empty.obj", _t(""), info=2, voxels=2, points=2),
    "obj_vertices_only": _spec("verts.obj", _t(TRI), info=2, voxels=2),
    "obj_text_garbage": _spec("words.obj", _t("hello world\nthis is not a mesh\n"), info=2, voxels=2),
    "obj_binary_garbage": _spec("noise.obj", _garbage(), info=2, voxels=2),
    "obj_face_index_out_of_range": _spec("badindex.obj", _obj(TRI, "f 1 2 9\n"), info=2, voxels=2),
    "obj_vertex_with_two_coordinates": _spec("v2.obj", _obj("v 0 0\nv 1 0\nv 0 1\n"), info=2, voxels=2),
    "obj_vertex_with_one_coordinate": _spec("v1.obj", _obj("v 0.5\nv 1 0 0\nv 0 1 0\n"), info=2, voxels=2),
    "obj_face_index_huge": _spec("hugeindex.obj", _obj(TRI, "f 1 2 99999999999\n"), info=2, voxels=2),
    "obj_nan_vertex": _spec("nan.obj", _obj("v 0 0 0\nv 1 0 0\nv nan 1 0\n"), info=2, voxels=2, points=2),
    "obj_inf_vertex": _spec("inf.obj", _obj("v 0 0 0\nv 1 0 0\nv inf 1 0\n"), info=2, voxels=2),
    "obj_1e308_coordinates": _spec("huge_coords.obj", _obj("v -1e308 -1e308 0\nv 1e308 -1e308 0\nv 0 1e308 1e308\n"
                                                           "v 0 0 -1e308\n", "f 1 2 3\nf 1 2 4\nf 2 3 4\nf 1 3 4\n"),
                                   voxels=2, points=2),
    "obj_degenerate_faces": _spec("degenerate.obj", _obj("v 0.1 0.2 0.3\nv 0.1 0.2 0.3\nv 0.1 0.2 0.3\n",
                                                         "f 1 2 3\nf 3 2 1\n"), voxels=2, points=2, mesh=2),
    "obj_collinear": _spec("collinear.obj", _obj("v 0 0 0\nv 1 1 1\nv 2 2 2\nv 3 3 3\n", "f 1 2 3\nf 2 3 4\n"),
                           voxels=2, points=2),
    "off_lying_header": _spec("lying.off", _t("OFF\n100 50 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"), info=2, voxels=2),
    "off_huge_counts": _spec("hugecount.off", _t("OFF\n1000000000000 1 0\n0 0 0\n"), info=2, voxels=2),
    "off_negative_counts": _spec("negative.off", _t("OFF\n-3 -1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"), info=2),
    "off_text_garbage": _spec("garbage.off", _t("OFF\nabc def ghi\nfoo\n"), info=2, voxels=2),
    "off_missing_header": _spec("noheader.off", _t("3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"), info=2),
    "stl_zero_byte": _spec("zero.stl", _t(""), info=2, voxels=2),
    "stl_binary_garbage": _spec("noise.stl", _garbage(), info=2, voxels=2, points=2),
    "stl_count_lies": _spec("count.stl", _stl_binary(1000, 1), info=2, voxels=2),
    "stl_ascii_truncated": _spec("cut.stl", _t("solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\n"), info=2),
    "ply_binary_garbage": _spec("noise.ply", _garbage(), info=2, voxels=2),
    "ply_header_only": _spec("header.ply", _t(_ply_header(3, 1)), info=2, voxels=2),
    "ply_face_count_lies": _spec("lying.ply", _t(_ply_header(3, 1000) + "0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"), info=2,
                                 voxels=2),
    "ply_face_count_not_a_number": _spec("nan_count.ply", _t(_ply_header(3, "many") + "0 0 0\n"), info=2, voxels=2),
    "ply_huge_face_count": _spec("huge_faces.ply", _t(_ply_header(3, 10**13) + "0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"),
                                 info=2),
    "glb_zero_byte": _spec("zero.glb", _t(""), info=2, voxels=2),
    "glb_garbage_after_magic": _spec("noise.glb", _garbage(512, b"glTF\x02\0\0\0"), info=2, voxels=2),
    "gltf_not_json": _spec("broken.gltf", _t("{not json"), info=2, voxels=2),
    "gltf_empty_json": _spec("empty.gltf", _t("{}"), info=2),
    "gltf_missing_buffer": _spec("nobuffer.gltf", _gltf_missing_buffer, info=2, voxels=2),
    "no_extension": _spec("meshfile", _t(TRI + "f 1 2 3\n"), info=2, voxels=2),
    "unknown_extension": _spec("mesh.xyz2", _t(TRI + "f 1 2 3\n"), info=2, voxels=2),
    # odd but valid: these work
    "obj_quads": _spec("quads.obj", _obj(BOX_OBJ, BOX_QUADS), info=0, voxels=0, points=0),
    "obj_negative_indices": _spec("relative.obj", _obj(TRI, "f -3 -2 -1\n"), info=0, points=0),
    "obj_missing_mtl": _spec("nomtl.obj", _t("mtllib nothing.mtl\nusemtl red\n" + BOX_OBJ + BOX_QUADS), info=0,
                             voxels=0),
    "obj_texcoords_normals": _spec("full.obj", _t(TRI + "vt 0 0\nvt 1 0\nvt 0 1\nvn 0 0 1\nf 1/1/1 2/2/1 3/3/1\n"),
                                   info=0, points=0),
    "obj_single_triangle": _spec("triangle.obj", _obj(TRI), info=0, points=0, mesh=0),
    "obj_crlf_line_endings": _spec("crlf.obj", _t((BOX_OBJ + BOX_QUADS).replace("\n", "\r\n")), info=0, voxels=0),
    "obj_large_finite_coordinates": _spec("big.obj", _box("obj", 1e6), info=0, voxels=0),
    "glb_tiny_coordinates": _spec("tiny.glb", _box("glb", 1e-5), info=0, voxels=0),
    "off_with_comment": _spec("comment.off", _t("OFF\n# a comment\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"),
                              info=0, points=0),
    "stl_ascii": _spec("box_ascii.stl", _box("stl_ascii"), info=0, voxels=0),
    "ply_binary_mesh": _spec("box.ply", _box("ply"), info=0, voxels=0, points=0),
    "glb_box": _spec("box.glb", _box("glb"), info=0, voxels=0, mesh=0),
    "upper_case_extension": _spec("BOX.OBJ", _box("obj"), info=0, voxels=0),
}


def _xyz(rows: str) -> Content:
    return _t(rows)


def _pcd(points: int, rows: str) -> Content:
    return _t(f"VERSION .7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH {points}\nHEIGHT 1\n"
              f"VIEWPOINT 0 0 0 1 0 0 0\nPOINTS {points}\nDATA ascii\n{rows}")


def _cloud(n: int = 300, scale: float = 0.4) -> str:
    """Points of a sphere of radius ``scale`` (a surface Poisson reconstruction can close)."""
    p = np.random.default_rng(0).normal(size=(n, 3))
    p = p / np.linalg.norm(p, axis=1, keepdims=True) * scale
    return "".join(f"{x:.6f} {y:.6f} {z:.6f}\n" for x, y, z in p)


POINTS: dict[str, tuple] = {
    "xyz_zero_byte": _spec("empty.xyz", _t(""), info=2, cloud=2),
    "xyz_text_garbage": _spec("words.xyz", _t("hello world foo\n"), info=2, cloud=2),
    "xyz_binary_garbage": _spec("noise.xyz", _garbage(), info=2, cloud=2),
    "xyz_four_columns": _spec("four.xyz", _xyz("0 0 0 1\n1 0 0 1\n"), info=2, cloud=2),
    "xyz_ragged_rows": _spec("ragged.xyz", _xyz("0 0 0\n1 0 0 5\n"), info=2, cloud=2),
    "xyz_nan": _spec("nan.xyz", _xyz("0 0 0\nnan 1 0\n"), info=2, cloud=2, mesh=2),
    "xyz_inf": _spec("inf.xyz", _xyz("0 0 0\ninf 1 0\n"), info=2, cloud=2),
    "xyz_1e308": _spec("huge.xyz", _xyz("1e308 0 0\n-1e308 0 0\n0 1e308 0\n0 0 1e308\n"), mesh=2, voxels=2),
    "xyz_single_point_to_mesh": _spec("one.xyz", _xyz("0.1 0.2 0.3\n"), r"one\.xyz|points", mesh=2, voxels=2),
    "xyz_collinear_to_mesh": _spec("line.xyz", _xyz("".join(f"{i} {i} {i}\n" for i in range(20))),
                                   r"line\.xyz|points", mesh=2),
    "xyz_duplicates_to_mesh": _spec("same.xyz", _xyz("0.1 0.2 0.3\n" * 50), r"same\.xyz|points", mesh=2),
    "pcd_zero_byte": _spec("empty.pcd", _t(""), info=2, cloud=2),
    "pcd_garbage": _spec("noise.pcd", _garbage(), info=2, cloud=2),
    "pcd_count_lies": _spec("lying.pcd", _pcd(1000, "0 0 0\n1 0 0\n"), info=2, cloud=2),
    "pcd_nan": _spec("nan.pcd", _pcd(2, "0 0 0\nnan 0 0\n"), info=2),
    "ply_points_count_lies": _spec("lying_points.ply", _t(_ply_header(1000, None) + "0 0 0\n1 0 0\n"), info=2),
    "ply_points_nan": _spec("nan_points.ply", _t(_ply_header(2, None) + "0 0 0\nnan 0 0\n"), info=2, cloud=2),
    "ply_points_header_only": _spec("header_points.ply", _t(_ply_header(5, None)), info=2),
    # odd but valid
    "xyz_single_point": _spec("single.xyz", _xyz("0.1 0.2 0.3\n"), info=0, cloud=0),
    "xyz_with_normals": _spec("normals.xyz", _xyz("0 0 0 0 0 1\n1 0 0 0 0 1\n"), info=0, cloud=0),
    "xyz_comments_and_crlf": _spec("comments.xyz", _xyz("# points\r\n0 0 0\r\n1 0 0\r\n"), info=0, cloud=0),
    "xyz_sphere_to_mesh": _spec("sphere.xyz", _xyz(_cloud()), mesh=0),
    "pcd_ascii": _spec("ok.pcd", _pcd(2, "0 0 0\n1 0 0\n"), info=0, points=0),
    "ply_ascii_points": _spec("points.ply", _t(_ply_header(2, None) + "0 0 0\n1 0 0\n"), info=0, points=0),
}


def _binvox(dims: str = "4 4 4", data: bytes = bytes((0, 32, 1, 32)), head: str = "#binvox 1",
            translate: str = "0 0 0", scale: str = "1") -> Content:
    return _b(f"{head}\ndim {dims}\ntranslate {translate}\nscale {scale}\ndata\n".encode() + data)


def _npz(**arrays) -> Content:
    def make(d: Path) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # numpy's own writer; object arrays are pickled inside
        return buf.getvalue()
    return make


def _npz_pickle_payload(d: Path) -> bytes:
    """An .npz whose ``voxels.npy`` holds an object array: a pickle that creates ``d / "pwned"`` if executed."""
    head = {"descr": "|O", "fortran_order": False, "shape": (1,)}
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, head)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("voxels.npy", npy.getvalue() + pickle_payload(d / "pwned"))
    return buf.getvalue()


def _npz_huge_header(d: Path) -> bytes:
    """``voxels.npy`` claims a 100000^3 bool array but holds 64 bytes."""
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, {"descr": "|b1", "fortran_order": False,
                                               "shape": (100_000, 100_000, 100_000)})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("voxels.npy", npy.getvalue() + b"\0" * 64)
    return buf.getvalue()


def _npz_bad_deflate(d: Path) -> bytes:
    """A zip whose one member's deflate stream starts with a reserved block type (an invalid stream)."""
    npy = io.BytesIO()
    np.lib.format.write_array(npy, np.ones((4, 4, 4), bool))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("voxels.npy", npy.getvalue())
    data = bytearray(buf.getvalue())
    data[30 + len("voxels.npy")] = 0x07  # after the local header: BFINAL=1, BTYPE=11 (reserved)
    return bytes(data)


CUBE = np.zeros((8, 8, 8), bool)
CUBE[2:6, 2:6, 2:6] = True

VOXELS: dict[str, tuple] = {
    "binvox_zero_byte": _spec("zero.binvox", _t(""), info=2, mesh=2),
    "binvox_truncated_header": _spec("cut_head.binvox", _t("#binvox 1\ndim 4 4"), info=2, mesh=2),
    "binvox_no_data_line": _spec("nodata.binvox", _t("#binvox 1\n" + "dim 4 4 4\n" * 20), info=2),
    "binvox_wrong_magic": _spec("magic.binvox", _binvox(head="#voxbin 1"), info=2, mesh=2),
    "binvox_zero_dims": _spec("zerodim.binvox", _binvox("0 0 0", b""), info=2, mesh=2),
    "binvox_negative_dims": _spec("negdim.binvox", _binvox("-4 4 4"), info=2),
    "binvox_two_dims": _spec("twodim.binvox", _binvox("4 4"), info=2),
    "binvox_dims_not_numbers": _spec("worddim.binvox", _binvox("a b c"), info=2),
    "binvox_odd_run_bytes": _spec("odd.binvox", _binvox(data=bytes((0, 32, 1))), info=2, mesh=2),
    "binvox_too_few_voxels": _spec("short.binvox", _binvox(data=bytes((0, 10))), info=2, mesh=2),
    "binvox_too_many_voxels": _spec("long.binvox", _binvox(data=bytes((0, 255, 1, 255))), info=2),
    "binvox_huge_dims": _spec("hugedim.binvox", _binvox("100000 100000 100000"), info=2, mesh=2),
    "binvox_translate_nan": _spec("nan_translate.binvox", _binvox(translate="nan 0 0"), info=2, mesh=2, points=2),
    "binvox_scale_zero": _spec("zero_scale.binvox", _binvox(scale="0"), info=2, mesh=2),
    "binvox_scale_negative": _spec("neg_scale.binvox", _binvox(scale="-1"), info=2, mesh=2),
    "binvox_scale_inf": _spec("inf_scale.binvox", _binvox(scale="inf"), info=2, mesh=2),
    "binvox_binary_garbage": _spec("noise.binvox", _garbage(), info=2),
    "npz_zero_byte": _spec("zero.npz", _t(""), info=2, mesh=2),
    "npz_text": _spec("text.npz", _t("not a zip"), info=2),
    "npz_corrupt_deflate_stream": _spec("deflate.npz", _npz_bad_deflate, info=2, mesh=2),
    "npz_truncated": _spec("cut.npz", lambda d: _npz(voxels=CUBE)(d)[:100], info=2, mesh=2),
    "npz_without_arrays": _spec("none.npz", _npz(), info=2, mesh=2),
    "npz_wrong_key": _spec("grid.npz", _npz(grid=CUBE), info=2),
    "npz_object_array": _spec("objects.npz", _npz(voxels=np.array([{"a": 1}], dtype=object)), info=2, mesh=2),
    "npz_pickle_payload": _spec("payload.npz", _npz_pickle_payload, info=2, mesh=2),
    "npz_huge_shape_header": _spec("huge_header.npz", _npz_huge_header, info=2, mesh=2),
    "npz_voxels_2d": _spec("flat.npz", _npz(voxels=np.ones((4, 4))), "flat.npz|3D", info=2, mesh=2),
    "npz_voxels_strings": _spec("strings.npz", _npz(voxels=np.full((4, 4, 4), "x")), info=2, mesh=2),
    "npz_voxels_zero_size": _spec("zerosize.npz", _npz(voxels=np.zeros((0, 0, 0), bool)), info=2, mesh=2),
    "npz_scale_array": _spec("scale3.npz", _npz(voxels=CUBE, scale=np.ones(3)), info=2, mesh=2),
    "npz_scale_nan": _spec("nan_scale.npz", _npz(voxels=CUBE, scale=np.float64("nan")), info=2, mesh=2),
    "npz_translate_wrong_shape": _spec("translate2.npz", _npz(voxels=CUBE, translate=np.zeros(2)), info=2),
    "all_empty_grid_to_mesh": _spec("empty_grid.binvox", _binvox(data=bytes((0, 64))), "empty_grid|empty|nothing",
                                    mesh=2, points=2),
    # odd but valid
    "binvox_non_cubic": _spec("box234.binvox", _binvox("2 3 4", bytes((1, 24))), info=0, mesh=0),
    "binvox_blank_header_lines": _spec("blank.binvox", _b(b"#binvox 1\n\ndim 4 4 4\n\nscale 1\ndata\n\x01\x40"),
                                      info=0, mesh=0),
    "binvox_full_grid": _spec("full.binvox", _binvox(data=bytes((1, 64))), info=0, mesh=0, points=0),
    "npz_probabilities": _spec("probs.npz", _npz(voxels=CUBE * 0.9), info=0, mesh=0),
    "npz_fortran_order": _spec("fortran.npz", _npz(voxels=np.asfortranarray(CUBE)), info=0, mesh=0),
    "npz_uncompressed_int": _spec("int.npz", _npz(voxels=CUBE.astype(np.int64)), info=0, voxels=0),
}


def _build(file: str, content: Content, command: str) -> Callable[[Path, Shared], list[str]]:
    def build(d: Path, s: Shared) -> list[str]:
        p = write(d, file, content(d))
        return (["info", str(p)] if command == "info" else ["convert", str(p), *COMMANDS[command](d)])
    return build


def _pcd_partial_normals(d: Path) -> str:
    return ("VERSION .7\nFIELDS x y z normal_x normal_y\nSIZE 4 4 4 4 4\nTYPE F F F F F\nCOUNT 1 1 1 1 1\n"
            "WIDTH 2\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS 2\nDATA ascii\n0 0 0 1 0\n1 0 0 1 0\n")


def _table(kind: str, table: dict[str, tuple]) -> list[Case]:
    cases = []
    for name, (file, content, codes, message, pending) in table.items():
        for command, code in codes.items():
            cases.append(Case(f"{kind}/{name}" + ("" if len(codes) == 1 else f"/{command}"), kind,
                              _build(file, content, command), code=code,
                              message=(message or file.replace(".", r"\.")) if code == 2 else None,
                              creates=CREATES.get(command) if code == 0 else None, pending=pending.get(command)))
    return cases


def _missing(d: Path, s: Shared) -> list[str]:
    return ["convert", str(d / "in" / "missing.obj"), out(d, "out.binvox")]


def _folder(d: Path, s: Shared) -> list[str]:
    (d / "in" / "folder.obj").mkdir()
    return ["info", str(d / "in" / "folder.obj")]


def cases() -> list[Case]:
    return (_table("mesh", MESHES) + _table("points", POINTS) + _table("voxels", VOXELS)
            + [Case("mesh/missing_file", "mesh", _missing, message="missing.obj"),
               Case("mesh/folder_named_obj", "mesh", _folder, message="folder.obj"),
               Case("points/pcd_partial_normals", "points", _build("normals.pcd", _pcd_partial_normals, "info"),
                    message=r"normals\.pcd", isolate=True, seconds=30)])
