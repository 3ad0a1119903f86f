"""Checks of mesh and point files a user can act on: header counts against :mod:`lift3d.limits` before parsing,
headers that promise more than the file holds, and, after reading, absurd coordinates and meshes with no surface.

Readers call :func:`check_header` before handing a file to trimesh or Open3D (which trust the header: an OFF that
promises more faces than it has loads silently short, a PLY promising 10^9 vertices allocates for them, a PCD
declaring ``normal_x`` without ``normal_y`` crashes Open3D) and :func:`check_mesh` /
:func:`lift3d.limits.check_coordinates` on what they read.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lift3d import limits
from lift3d.errors import FormatError
from lift3d.io.pcd import check_pcd

if TYPE_CHECKING:
    import trimesh

_PLY_SIZES = {"char": 1, "uchar": 1, "int8": 1, "uint8": 1, "short": 2, "ushort": 2, "int16": 2, "uint16": 2,
              "int": 4, "uint": 4, "int32": 4, "uint32": 4, "float": 4, "float32": 4, "double": 8, "float64": 8}


def reason(exc: BaseException, limit: int = 200) -> str:
    """A library's exception as a short clause for a one-line message: its first line, cut to ``limit`` characters
    (zipfile and safetensors may quote raw bytes or a whole header in theirs), or its type when it has no text."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_header(path: Path, kind: str = "mesh") -> None:
    """Check the counts an OFF, PLY, PCD or binary STL header declares: against the limits (:data:`~lift3d.limits.
    MESH_FACES`, :data:`~lift3d.limits.MESH_VERTICES`, or :data:`~lift3d.limits.POINTS` for a point ``kind``) and
    against what the file holds; a PCD header's consistency (:func:`check_pcd`) and an OBJ's vertex lines (each
    with x, y and z). Raises :class:`FormatError` naming the file; other formats pass unchecked."""
    ext = path.suffix.lower()
    if ext == ".off":
        _check_off(path)
    elif ext == ".ply":
        _check_ply(path, kind)
    elif ext == ".stl":
        _check_stl(path)
    elif ext == ".obj":
        _check_obj(path)
    elif ext == ".pcd":
        check_pcd(path)


def _check_counts(path: Path, vertices: int, faces: int, kind: str = "mesh") -> None:
    if kind == "points":
        limits.POINTS.check(vertices, str(path), FormatError)
    else:
        limits.MESH_VERTICES.check(vertices, str(path), FormatError)
    limits.MESH_FACES.check(faces, str(path), FormatError)


def _n(count: int, noun: str) -> str:
    """``1 face``, ``2 faces``, ``3 vertices``."""
    plural = {"vertex": "vertices"}.get(noun, noun + "s")
    return f"{count:,} {noun if count == 1 else plural}"


def _data_lines(f) -> int:
    """Non-blank lines not starting with ``#`` from the current position of a binary file ``f``."""
    return sum(1 for line in f if line.strip() and not line.lstrip().startswith(b"#"))


def _check_off(path: Path) -> None:
    with open(path, "rb") as f:
        tokens: list[bytes] = []
        while len(tokens) < 4:
            line = f.readline()
            if not line:
                raise FormatError(f"{path}: truncated OFF header (expected 'OFF' and vertex/face/edge counts)")
            tokens += line.split(b"#")[0].split()
        if not tokens[0].endswith(b"OFF") or b"BINARY" in tokens[:2]:
            return  # not a plain ASCII OFF: left to trimesh
        try:
            nv, nf = int(tokens[1]), int(tokens[2])
        except ValueError as exc:
            raise FormatError(f"{path}: bad OFF header counts {[t.decode('latin-1') for t in tokens[1:4]]}") from exc
        if nv < 0 or nf < 0:
            raise FormatError(f"{path}: negative counts in the OFF header ({nv} vertices, {nf} faces)")
        _check_counts(path, nv, nf)
        have = _data_lines(f) + (len(tokens) > 4)  # the counts and the first vertex may share a line
    if have < nv + nf:
        raise FormatError(f"{path}: the OFF header promises {_n(nv, 'vertex')} and {_n(nf, 'face')}, but the file "
                          f"has only {have:,} data lines (truncated?)")


def ply_header(path: Path) -> tuple[str, list[tuple[str, int, list[tuple[str, ...]]]], int]:
    """-> ``(format, [(element, count, [property tokens])], header bytes)`` of a PLY file's header."""
    with open(path, "rb") as f:
        head = f.read(65536)
    end = head.find(b"end_header")
    if not head.startswith(b"ply") or end < 0:
        raise FormatError(f"{path} is not a PLY file (no 'ply' ... 'end_header' header)")
    stop = head.find(b"\n", end)
    fmt, elements = "", []
    for line in head[:end].decode("latin-1").splitlines():
        parts = line.split()
        try:
            if parts[:1] == ["format"]:
                fmt = parts[1]
            elif parts[:1] == ["element"]:
                elements.append((parts[1], int(parts[2]), []))
            elif parts[:1] == ["property"] and elements:
                if len(parts) < (5 if parts[1:2] == ["list"] else 3):  # property TYPE NAME, property list N T NAME
                    raise ValueError("incomplete property")
                elements[-1][2].append(tuple(parts[1:]))
        except (IndexError, ValueError) as exc:
            raise FormatError(f"{path}: bad PLY header line {line.strip()!r}") from exc
    return fmt, elements, (stop + 1 if stop >= 0 else len(head))


def _check_ply(path: Path, kind: str) -> None:
    fmt, elements, header_bytes = ply_header(path)
    counts = {name: n for name, n, _ in elements}
    if any(n < 0 for n in counts.values()):
        raise FormatError(f"{path}: negative element count in the PLY header")
    _check_counts(path, counts.get("vertex", 0), counts.get("face", 0), kind)
    size = path.stat().st_size - header_bytes
    if fmt == "ascii":
        with open(path, "rb") as f:
            f.seek(header_bytes)
            have = _data_lines(f)
        need = sum(counts.values())
    else:
        need, have = 0, size
        for name, n, props in elements:
            row = 0
            for prop in props:
                if prop[0] == "list" and len(prop) >= 3:  # count type + items (faces: at least a triangle)
                    row += _PLY_SIZES.get(prop[1], 1) + (3 if name == "face" else 0) * _PLY_SIZES.get(prop[2], 1)
                else:
                    row += _PLY_SIZES.get(prop[0], 1)
            need += n * row
    if have < need:
        what = ", ".join(_n(n, name) for name, n, _ in elements)
        unit = "data lines" if fmt == "ascii" else "bytes of data, needs at least"
        raise FormatError(f"{path}: the PLY header promises {what}, but the file has only {have:,} {unit}"
                          + ("" if fmt == "ascii" else f" {need:,}") + " (truncated?)")


def _check_stl(path: Path) -> None:
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(84)
    if len(head) < 84 or (head[:5].lower() == b"solid" and size != 84 + 50 * struct.unpack("<I", head[80:])[0]):
        return  # ASCII STL (or too short for a binary one): left to trimesh, checked after reading
    n = struct.unpack("<I", head[80:84])[0]
    limits.MESH_FACES.check(n, str(path), FormatError)
    if size < 84 + 50 * n:
        raise FormatError(f"{path}: the STL header promises {n:,} triangles, but the file holds "
                          f"{max(0, size - 84) // 50:,} (truncated?)")


def _check_obj(path: Path) -> None:
    """Every OBJ vertex line (``v x y z [w | r g b]``) has at least 3 values. trimesh clips all vertices to the
    shortest line (one ``v 0 0`` makes every vertex 2D) or, when the value count happens to fit, reads them shifted;
    counted here per line with numpy (no Python loop over a multi-million-line file)."""
    data = np.fromfile(path, np.uint8)
    if not data.size:
        return
    newline = data == ord("\n")
    gap = newline | (data == ord(" ")) | (data == ord("\t")) | (data == ord("\r"))
    token = ~gap
    token[1:] &= gap[:-1]  # first byte of each whitespace-separated token
    del gap
    starts = np.concatenate(([0], np.flatnonzero(newline[:-1]) + 1))
    del newline
    second = data[np.minimum(starts + 1, data.size - 1)]
    vertex = (data[starts] == ord("v")) & ((second == ord(" ")) | (second == ord("\t"))) & (starts + 1 < data.size)
    if not vertex.any():
        return
    values = np.add.reduceat(token, starts, dtype=np.int64) - 1  # tokens per line, less the "v"
    short = np.flatnonzero(vertex & (values < 3))
    if short.size:
        line = int(short[0])
        raise FormatError(f"{path}: line {line + 1:,} is a vertex with {int(values[line])} coordinate(s); OBJ "
                          "vertices need x, y and z")


def check_mesh(mesh: trimesh.Trimesh, name: str) -> None:
    """After reading: vertices with 3 coordinates and triangle faces, vertex and face counts within the limits,
    coordinates finite and within :data:`~lift3d.limits.COORDINATE`, face indices valid, and some face with a
    non-zero area. Raises :class:`FormatError` naming ``name``; never emits a numpy warning."""
    verts = np.asarray(mesh.vertices)
    faces = np.asarray(mesh.faces)
    if verts.ndim != 2 or verts.shape[1] != 3:
        raise FormatError(f"{name}: vertices must have 3 coordinates (x, y, z), got an array of shape {verts.shape}")
    if faces.ndim != 2 or faces.shape[1] != 3:
        raise FormatError(f"{name}: faces must be triangles, got an array of shape {faces.shape}")
    limits.MESH_VERTICES.check(len(verts), name, FormatError)
    limits.MESH_FACES.check(len(faces), name, FormatError)
    limits.check_coordinates(verts, name, FormatError)
    if faces.size and (faces.min() < 0 or faces.max() >= len(verts)):
        raise FormatError(f"{name} has faces that refer to vertices it does not have")
    extent = float(np.ptp(verts, axis=0).max()) if len(verts) else 0.0
    for start in range(0, len(faces), 1 << 20):  # in chunks: a real mesh answers in the first one
        tri = verts[faces[start:start + (1 << 20)]].astype(np.float64)
        doubled = np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
        if extent > 0.0 and (doubled > 1e-12 * extent * extent).any():
            return
    raise FormatError(f"{name} has no surface: all {len(faces):,} faces have zero area (degenerate mesh)")
