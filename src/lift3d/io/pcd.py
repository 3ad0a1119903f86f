"""The PCD header checked in Python before Open3D reads the file: Open3D's reader trusts it and crashes on some.

Open3D (0.20, ``FilePCD.cpp``) allocates normals only when ``normal_x``, ``normal_y`` and ``normal_z`` are all
declared but writes any one it finds (a segfault for ``normal_x`` alone), reads uninitialised counts when ``WIDTH``
/ ``HEIGHT`` / ``POINTS`` are missing or out of order, indexes past a row for a zero or negative ``COUNT``, and reads
``binary_compressed`` columns past the decompressed buffer when its stored size disagrees with the header. It also
silently reads 8-byte binary coordinates as 0. :func:`check_pcd` accepts only a header that Open3D reads as it is
meant (the PCD v0.7 spec: the entries in their order, one value per field in ``SIZE`` / ``TYPE`` / ``COUNT``,
``WIDTH`` x ``HEIGHT`` = ``POINTS``) and data that holds what the header promises.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

from lift3d import limits
from lift3d.errors import FormatError

KEYS = ("VERSION", "FIELDS", "SIZE", "TYPE", "COUNT", "WIDTH", "HEIGHT", "VIEWPOINT", "POINTS", "DATA")
"""The header entries, in the order the spec requires; ``VERSION``, ``COUNT`` and ``VIEWPOINT`` may be left out."""
OPTIONAL = ("VERSION", "COUNT", "VIEWPOINT")
COORDINATES = ("x", "y", "z")
NORMALS = ("normal_x", "normal_y", "normal_z")
COLORS = ("rgb", "rgba")
BINARY_NUMBERS = {("I", 1), ("I", 2), ("I", 4), ("U", 1), ("U", 2), ("U", 4), ("F", 4)}
"""(TYPE, SIZE) of the binary coordinates and normals Open3D decodes; it reads any other as 0."""
LINE = 1000  # Open3D reads lines in 1024-byte pieces: a longer line would be read as two
_TEXT = re.compile(rb"[\t\x20-\x7e]*\r?\n")  # printable ASCII: Python and Open3D split it into the same tokens
_INT = re.compile(r"[0-9]{1,12}")
_TOKEN = re.compile(rb"[^\t\r\n ]+")  # Open3D's delimiters for data values


def _fail(path: Path, why: str) -> FormatError:
    return FormatError(f"{path}: {why}; not a PCD file lift3d can read")


def read_header(path: Path) -> tuple[dict[str, list[str]], int]:
    """-> ``({entry: its values}, header bytes)`` of a PCD file; :class:`FormatError` for a header that is not
    plain ASCII lines of the known entries, each once and in the spec's order, ending with ``DATA``."""
    with open(path, "rb") as f:
        head = f.read(65536)
    header: dict[str, list[str]] = {}
    pos = number = 0
    while "DATA" not in header:
        end = head.find(b"\n", pos)
        if end < 0:
            raise _fail(path, "truncated header (no DATA line)")
        raw, pos, number = head[pos:end + 1], end + 1, number + 1
        if len(raw) > LINE or not _TEXT.fullmatch(raw):
            raise _fail(path, f"header line {number} is binary or longer than {LINE} bytes")
        tokens = raw.decode("ascii").split()
        if not tokens or tokens[0].startswith("#"):
            continue
        key = "FIELDS" if tokens[0] == "COLUMNS" else tokens[0]
        if key not in KEYS:
            raise _fail(path, f"unknown header entry {tokens[0][:20]!r} on line {number}")
        if key in header or any(KEYS.index(k) > KEYS.index(key) for k in header):
            raise _fail(path, f"header entry {key} is repeated or out of order (the order is {' '.join(KEYS)})")
        header[key] = tokens[1:]
    missing = [k for k in KEYS if k not in header and k not in OPTIONAL]
    if missing:
        raise _fail(path, f"the header has no {', '.join(missing)}")
    return header, pos


def _ints(path: Path, key: str, values: list[str]) -> list[int]:
    if not all(_INT.fullmatch(v) for v in values):
        raise _fail(path, f"{key} must hold whole numbers, got {' '.join(values)[:60]!r}")
    return [int(v) for v in values]


def check_pcd(path: Path) -> None:
    """Refuse a PCD file Open3D would crash on or misread (see the module notes): a malformed header, fields or
    their sizes, types and counts that do not agree, x/y/z missing, some but not all normals, a point count over
    :data:`lift3d.limits.POINTS`, or data shorter than the header promises. Raises :class:`FormatError`."""
    header, start = read_header(path)
    fields = header["FIELDS"]
    n = len(fields)
    for key in ("SIZE", "TYPE", "COUNT"):
        if key in header and len(header[key]) != n:
            raise _fail(path, f"FIELDS names {n} field(s) but {key} gives {len(header[key])} value(s)")
    sizes = _ints(path, "SIZE", header["SIZE"])
    types = header["TYPE"]
    counts = _ints(path, "COUNT", header.get("COUNT", ["1"] * n))
    for name, size, kind, count in zip(fields, sizes, types, counts, strict=True):
        if kind not in ("I", "U", "F") or size not in (1, 2, 4, 8) or (kind == "F" and size in (1, 2)) or count < 1:
            raise _fail(path, f"field {name[:20]!r} has TYPE {kind[:4]} SIZE {size} COUNT {count} (TYPE is I, U or "
                              "F; SIZE 1, 2, 4 or 8, F only 4 or 8; COUNT at least 1)")
    if any(c not in fields for c in COORDINATES):
        raise _fail(path, "it declares no x, y, z fields")
    declared = [c for c in NORMALS if c in fields]
    if declared and len(declared) < 3:
        lacking = ", ".join(c for c in NORMALS if c not in declared)
        raise _fail(path, f"it declares {', '.join(declared)} without {lacking}")
    width, height, points = (_ints(path, k, header[k])[0] if len(header[k]) == 1 else -1
                             for k in ("WIDTH", "HEIGHT", "POINTS"))
    if min(width, height, points) < 1 or width * height != points:
        raise _fail(path, f"WIDTH x HEIGHT must equal POINTS, all positive, got {' '.join(header['WIDTH'])[:20]} x "
                          f"{' '.join(header['HEIGHT'])[:20]} and {' '.join(header['POINTS'])[:20]}")
    limits.POINTS.check(points, str(path), FormatError)
    data = header["DATA"]
    if data not in (["ascii"], ["binary"], ["binary_compressed"]):
        raise _fail(path, f"DATA must be ascii, binary or binary_compressed, got {' '.join(data)[:40]!r}")
    for name, size, kind in zip(fields, sizes, types, strict=True):
        if name in COLORS and size != 4:
            raise _fail(path, f"colour field {name} must have SIZE 4, got {size}")
        if data != ["ascii"] and name in COORDINATES + NORMALS and (kind, size) not in BINARY_NUMBERS:
            raise _fail(path, f"binary field {name} of TYPE {kind} SIZE {size} cannot be read (use I or U of 1, 2 "
                              "or 4 bytes, or F of 4)")
    row = sum(s * c for s, c in zip(sizes, counts, strict=True))
    if points * row >= 2**31:  # Open3D counts bytes in 32-bit integers
        raise _fail(path, f"{points:,} points of {row:,} bytes are too many for Open3D")
    _check_data(path, data[0], start, points, row, sum(counts))


def _check_data(path: Path, data: str, start: int, points: int, row: int, values: int) -> None:
    """The data section after the header holds ``points`` rows of ``row`` bytes (binary), the compressed block
    sizes that decompress to exactly that (binary_compressed), or ``points`` lines of ``values`` values (ascii)."""
    have = path.stat().st_size - start
    if data == "binary" and have < points * row:
        raise _fail(path, f"the header promises {points:,} points of {row} bytes, but the file holds {have:,} bytes "
                          "of data (truncated?)")
    if data == "binary_compressed":
        with open(path, "rb") as f:
            f.seek(start)
            sizes = f.read(8)
        if len(sizes) < 8:
            raise _fail(path, "truncated compressed data (no block sizes)")
        packed, unpacked = struct.unpack("<II", sizes)
        if unpacked != points * row or packed > have - 8:
            raise _fail(path, f"the compressed block ({packed:,} bytes, {unpacked:,} unpacked) does not hold "
                              f"{points:,} points of {row} bytes, or the file is truncated")
    if data == "ascii":
        rows = 0
        with open(path, "rb") as f:
            f.seek(start)
            for line in f:
                if len(line) > LINE:
                    raise _fail(path, f"a data line is longer than {LINE} bytes")
                rows += len(_TOKEN.findall(line.split(b"\0", 1)[0])) >= values  # Open3D stops a line at NUL
                if rows >= points:
                    return
        raise _fail(path, f"the header promises {points:,} points, but the file has {rows:,} data lines of "
                          f"{values} values (truncated?)")
