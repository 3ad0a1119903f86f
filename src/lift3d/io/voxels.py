"""Voxel grid files: ``.binvox`` (read + write) and ``.npz``.

binvox (Patrick Min's format, used by ShapeNetVox32 / 3D-R2N2) is written by hand because no maintained
library on PyPI both reads and writes it: an ASCII header (``#binvox 1``, ``dim D D D``, ``translate x y z``,
``scale s``, ``data``) followed by run-length pairs of bytes ``(value, count)`` over the voxels in x-major,
then z, then y order (y varies fastest). A voxel ``(x, y, z)`` has its lower corner at world position
``translate + scale * (x, y, z) / D``. :class:`VoxelGrid` keeps lift3d's ``grid[x, y, z]`` order.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lift3d import limits
from lift3d.errors import FormatError, InputError
from lift3d.io.atomic import Target, write_output
from lift3d.io.checks import reason
from lift3d.io.formats import FORMATS, FileFormat, extensions, target_ext
from lift3d.io.npz import READ_ERRORS, member_shape, save_npz


@dataclass
class VoxelGrid:
    """Occupancy bool ``(D, D, D)`` indexed ``[x, y, z]`` covering ``translate + [0, scale]^3`` in world units."""

    occupancy: np.ndarray
    translate: np.ndarray = field(default_factory=lambda: np.full(3, -0.5))
    scale: float = 1.0

    def __post_init__(self) -> None:
        self.occupancy = np.asarray(self.occupancy).astype(bool)
        self.translate = np.asarray(self.translate, dtype=np.float64).reshape(3)
        if self.occupancy.ndim != 3:
            raise InputError(f"voxel occupancy must be 3D, got shape {self.occupancy.shape}")

    @property
    def world_bounds(self) -> np.ndarray:
        """``(2, 3)`` min and max corner in world units."""
        return np.stack([self.translate, self.translate + self.scale])


def _as_grid(grid) -> VoxelGrid:
    return grid if isinstance(grid, VoxelGrid) else VoxelGrid(np.asarray(grid) >= 0.5)


def read_binvox(path: str | os.PathLike) -> VoxelGrid:
    """Parse a ``.binvox`` file; raises :class:`FormatError` naming the file if it is malformed or truncated."""
    p = Path(path)
    data = p.read_bytes()
    header: dict[str, list[str]] = {}
    pos = 0
    for _ in range(16):
        end = data.find(b"\n", pos)
        if end < 0:
            raise FormatError(f"{p}: truncated binvox header")
        line = data[pos:end].decode("ascii", errors="replace").strip()
        pos = end + 1
        if not header and not line.startswith("#binvox"):
            raise FormatError(f"{p} is not a binvox file (no '#binvox' header)")
        if line == "data":
            break
        if not line:
            continue  # tolerate blank header lines
        key, *vals = line.split()
        header[key] = vals
    else:
        raise FormatError(f"{p}: binvox header has no 'data' line")
    for key, count in (("translate", 3), ("scale", 1)):
        if key in header and len(header[key]) != count:
            raise FormatError(f"{p}: bad binvox header ('{key}' needs {count} number(s), got {len(header[key])})")
    try:
        dims = [int(v) for v in header["dim"]]
        translate = np.array([float(v) for v in header.get("translate", ["0", "0", "0"])])
        scale = float(header.get("scale", ["1"])[0])
    except (KeyError, ValueError) as exc:
        raise FormatError(f"{p}: bad binvox header ({exc})") from exc
    if len(dims) != 3 or min(dims) < 1:
        raise FormatError(f"{p}: bad binvox dimensions {dims}")
    check_grid(dims, translate, scale, str(p))
    runs = np.frombuffer(data[pos:], dtype=np.uint8)
    if len(runs) % 2:
        raise FormatError(f"{p}: truncated binvox data (odd number of run bytes)")
    values, counts = runs[0::2], runs[1::2].astype(np.int64)
    n = int(np.prod(dims))
    if counts.sum() != n:
        raise FormatError(f"{p}: binvox data holds {counts.sum()} voxels, header says {n} (truncated or corrupt)")
    flat = np.repeat(values > 0, counts)
    occ = flat.reshape(dims[0], dims[2], dims[1]).transpose(0, 2, 1)  # file order x, z, y -> x, y, z
    return VoxelGrid(occ, translate, scale)


def check_grid(dims, translate: np.ndarray, scale: float, name: str) -> None:
    """A grid read from a file: each side within :data:`lift3d.limits.VOXEL_RESOLUTION`, a finite placement within
    :data:`~lift3d.limits.COORDINATE` and a positive scale; raises :class:`FormatError` naming ``name``."""
    limits.VOXEL_RESOLUTION.check(max(int(d) for d in dims), f"{name} (a {'x'.join(map(str, dims))} grid)",
                                  FormatError)
    limits.check_coordinates(np.append(np.ravel(translate), scale), name, FormatError)
    if not scale > 0:
        raise FormatError(f"{name}: the voxel grid's scale must be positive, got {scale}")


def _read_npz(p: Path) -> VoxelGrid:
    """An ``.npz`` voxel file; every array's shape is checked from its header before it is decompressed."""
    with np.load(p, allow_pickle=False) as z:
        if "voxels" not in z:
            raise FormatError(f"{p} has no 'voxels' array")
        shape = member_shape(z, "voxels")
        if len(shape) != 3 or min(shape) < 1:
            raise FormatError(f"{p}: 'voxels' must be a non-empty 3D array, got shape {shape}")
        for key, size in (("translate", 3), ("scale", 1)):
            if key in z and math.prod(member_shape(z, key)) != size:
                raise FormatError(f"{p}: '{key}' must hold {size} number(s), got shape {member_shape(z, key)}")
        translate = np.asarray(z["translate"], np.float64).reshape(3) if "translate" in z else np.full(3, -0.5)
        scale = float(np.asarray(z["scale"]).reshape(())) if "scale" in z else 1.0
        check_grid(shape, translate, scale, str(p))
        return VoxelGrid(z["voxels"] >= 0.5, translate, scale)


def write_binvox(target: Target, grid: VoxelGrid | np.ndarray) -> None:
    """Write a :class:`VoxelGrid` (or a ``(D, D, D)`` array in the canonical cube) as ``.binvox`` to a path
    (atomically) or a binary file object."""
    g = _as_grid(grid)
    d = g.occupancy.shape
    flat = g.occupancy.transpose(0, 2, 1).reshape(-1).astype(np.uint8)  # x, y, z -> file order x, z, y
    change = np.flatnonzero(np.diff(flat)) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [len(flat)]]))
    out = bytearray()
    for s, n in zip(starts, lengths, strict=True):
        v = flat[s]
        while n > 0:
            k = min(int(n), 255)
            out += bytes((int(v), k))
            n -= k
    t = g.translate
    head = (f"#binvox 1\ndim {d[0]} {d[1]} {d[2]}\ntranslate {t[0]:.6g} {t[1]:.6g} {t[2]:.6g}\n"
            f"scale {g.scale:.6g}\ndata\n").encode("ascii")
    write_output(target, head + bytes(out))


def load_voxels(path: str | os.PathLike) -> VoxelGrid:
    """Read ``.binvox`` or ``.npz`` (key ``voxels``, optional ``translate``, ``scale``)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {p}")
    ext = p.suffix.lower()
    if ext == ".binvox":
        return read_binvox(p)
    if ext == ".npz":
        try:
            return _read_npz(p)
        except READ_ERRORS as exc:
            raise FormatError(f"{p} is not a readable .npz voxel file: {type(exc).__name__}: {reason(exc)}") from exc
    raise InputError(f"unknown voxel format {ext!r} for {p}; use {' or '.join(extensions('voxels', readable=True))}")


def save_voxels(target: Target, grid: VoxelGrid | np.ndarray, probabilities: np.ndarray | None = None,
                fmt: str | None = None) -> None:
    """Write ``.binvox`` or ``.npz`` (the latter may also hold float ``probabilities`` ``(D, D, D)``).

    ``grid`` is a :class:`VoxelGrid` or an occupancy ``(D, D, D)`` in the canonical cube; ``target`` a path (written
    atomically) or a binary file object (``fmt`` required).
    """
    ext = target_ext(target, fmt)
    g = _as_grid(grid)
    if ext == ".binvox":
        write_binvox(target, g)
    elif ext == ".npz":
        extra = {} if probabilities is None else {"probabilities": np.asarray(probabilities, np.float32)}
        save_npz(target, voxels=g.occupancy, translate=g.translate, scale=np.float64(g.scale), **extra)
    else:
        known = " or ".join(extensions("voxels", writable=True))
        raise InputError(f"unknown voxel format {ext!r} for {target}; use {known}")


def _write_voxels(grid: VoxelGrid | np.ndarray, target: Target, ext: str) -> None:
    save_voxels(target, grid, fmt=ext)


FORMATS.register(".binvox", FileFormat("binvox voxel grid (ShapeNetVox32)", readers={"voxels": load_voxels},
                                       writers={"voxels": _write_voxels}))
FORMATS.register(".npz", FileFormat("numpy voxel archive (key 'voxels', optional 'translate', 'scale')",
                                    readers={"voxels": load_voxels}, writers={"voxels": _write_voxels}))
