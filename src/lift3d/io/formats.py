"""The one extension table (:data:`FORMATS`) and the one dispatcher over it.

Every file format lift3d knows is one :class:`FileFormat` row registered under its extension by the module that
implements it (``meshes.py``: .glb .gltf .obj .stl .off; ``voxels.py``: .binvox .npz; ``points.py``: .ply .pcd
.xyz; ``images.py``: .png .jpg ...). A row says which kinds of data (``mesh`` | ``points`` | ``voxels`` |
``image``) the format holds and how to read and/or write each kind. ``.ply`` is the one format with two kinds: a
file is sniffed for faces when read, and written by what the data is.

The dispatcher: :func:`read_any`, :func:`write_any`, :func:`kind_of`, :func:`check_output_path`,
:func:`extensions`. Writers take a path (written atomically) or a binary file object plus ``fmt``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, overload

from lift3d.errors import InputError
from lift3d.io.atomic import Target, is_stream
from lift3d.registry import Registry

KINDS = ("mesh", "points", "voxels", "image")

Reader = Callable[[Path], Any]
"""``read(path) -> obj``: a ``trimesh.Trimesh``, ``(points, normals, colors)``, a ``VoxelGrid`` or RGBA (H, W, 4)."""
Writer = Callable[[Any, Target, str], Any]
"""``write(obj, target, ext)``: ``target`` a path (atomic) or a binary file object; ``ext`` like ``".glb"``."""


@dataclass(frozen=True)
class FileFormat:
    """One row of the extension table.

    Attributes:
        description: what the format is, for people (``"binary glTF"``).
        readers: kind -> reader; empty when lift3d cannot read the format.
        writers: kind -> writer; empty when lift3d cannot write it.
        sniff: for a format with several kinds, ``sniff(path) -> kind`` of an existing file.
    """

    description: str
    readers: Mapping[str, Reader] = field(default_factory=dict)
    writers: Mapping[str, Writer] = field(default_factory=dict)
    sniff: Callable[[Path], str] | None = None

    def __post_init__(self) -> None:
        unknown = (set(self.readers) | set(self.writers)) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kind(s) {sorted(unknown)}; use {KINDS}")
        if not self.kinds:
            raise ValueError(f"file format {self.description!r} has neither a reader nor a writer")

    @property
    def kinds(self) -> tuple[str, ...]:
        """Kinds of data the format holds, the main one first."""
        return tuple(dict.fromkeys([*self.readers, *self.writers]))

    @property
    def readable(self) -> bool:
        return bool(self.readers)

    @property
    def writable(self) -> bool:
        return bool(self.writers)


FORMATS: Registry[FileFormat] = Registry(
    "file format", InputError,
    modules=("lift3d.io.meshes", "lift3d.io.voxels", "lift3d.io.points", "lift3d.io.images", "lift3d.io.usd"),
)


def extensions(kind: str | None = None, readable: bool | None = None, writable: bool | None = None) -> tuple[str, ...]:
    """Registered extensions (``".glb"`` ...), grouped by main kind in :data:`KINDS` order, each group in
    registration order (so the order does not depend on which format module was imported first).

    Args:
        kind: only formats holding this kind (that lift3d writes / reads when ``writable`` / ``readable`` is True).
        readable, writable: only formats lift3d can (True) or cannot (False) read / write; None: either.
    """
    out = []
    for ext in sorted(FORMATS.names(), key=lambda e: KINDS.index(FORMATS.get(e).kinds[0])):
        f = FORMATS.get(ext)
        if (readable is not None and f.readable != readable) or (writable is not None and f.writable != writable):
            continue
        if kind is None or kind in (f.writers if writable else f.readers if readable else f.kinds):
            out.append(ext)
    return tuple(out)


def normalise_ext(fmt: str) -> str:
    """``"GLB"``, ``"glb"`` or ``".glb"`` -> ``".glb"``."""
    return "." + fmt.lower().lstrip(".")


def target_ext(target: Target, fmt: str | None = None) -> str:
    """The format extension of a write: ``fmt`` when given, else the path's suffix (a stream needs ``fmt``)."""
    if fmt is not None:
        return normalise_ext(fmt)
    if is_stream(target):
        raise InputError("writing to a stream needs its format (fmt='.glb', '.ply' ...)")
    return Path(target).suffix.lower()  # type: ignore[arg-type]


def _input_format(path: Path) -> FileFormat:
    ext = path.suffix.lower()
    if ext not in FORMATS:
        known = sorted(FORMATS.names())
        raise InputError(f"unknown file format {ext or '(none)'!r} for {path}; supported: {', '.join(known)}")
    return FORMATS.get(ext)


def _output_format(suffix: str, name: str, kinds: str | Collection[str] | None = None) -> FileFormat:
    wanted = (kinds,) if isinstance(kinds, str) else kinds
    ok = [e for e in extensions(writable=True) if wanted is None or set(FORMATS.get(e).writers) & set(wanted)]
    if suffix.lower() not in ok:
        raise InputError(f"unsupported output extension {suffix or '(none)'!r} for {name}; use one of {', '.join(ok)}")
    return FORMATS.get(suffix.lower())


def check_output_path(path: str | os.PathLike, kinds: str | Collection[str] | None = None) -> Path:
    """Validate an output path's extension before any work: lift3d writes it (and, given ``kinds``, it holds one of
    them). The error lists the extensions that would do."""
    p = Path(path)
    _output_format(p.suffix, str(p), kinds)
    return p


def kind_of(path: str | os.PathLike, for_output: bool = False) -> str:
    """``mesh`` | ``points`` | ``voxels`` | ``image`` from the extension.

    An existing input file of a several-kind format (``.ply``) is sniffed; for output the extension must be writable
    and its main kind is returned (``.ply``: mesh).
    """
    p = Path(path)
    if for_output:
        return _output_format(p.suffix, str(p)).kinds[0]
    f = _input_format(p)
    if f.sniff is not None and p.is_file():
        return f.sniff(p)
    return f.kinds[0]


def read_any(path: str | os.PathLike) -> tuple[str, Any]:
    """-> ``(kind, obj)``: a trimesh, ``(points (N, 3), normals (N, 3) | None, colors (N, 3) | None)``, a
    :class:`~lift3d.io.voxels.VoxelGrid` or an RGBA image ``(H, W, 4)`` uint8."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {p}")
    kind = kind_of(p)
    reader = _input_format(p).readers.get(kind)
    if reader is None:
        raise InputError(f"lift3d cannot read {p.suffix} files ({p})")
    return kind, reader(p)


def data_kind(obj: Any) -> str | None:
    """What a writable object is: ``mesh`` (trimesh), ``voxels`` (VoxelGrid or ``(D, D, D)`` array), ``points``
    (``(N, 3)`` array or a ``(points, normals, colors)`` tuple); None for anything else."""
    import numpy as np
    import trimesh

    from lift3d.io.voxels import VoxelGrid

    if isinstance(obj, trimesh.Trimesh):
        return "mesh"
    if isinstance(obj, VoxelGrid) or (isinstance(obj, np.ndarray) and obj.ndim == 3):
        return "voxels"
    if isinstance(obj, tuple) or (isinstance(obj, np.ndarray) and obj.ndim == 2):
        return "points"
    return None


@overload
def write_any(obj: Any, target: str | os.PathLike, fmt: str | None = None) -> Path: ...
@overload
def write_any(obj: Any, target: BinaryIO, fmt: str) -> None: ...


def write_any(obj: Any, target: Target, fmt: str | None = None) -> Path | None:
    """Write ``obj`` in the format named by ``fmt`` or the path's extension; returns the path (None for a stream).

    ``obj`` may be a ``trimesh.Trimesh`` (mesh formats), points ``(N, 3)`` or a tuple ``(points, normals|None,
    colors|None)`` as :func:`read_any` returns (point formats), or a :class:`~lift3d.io.voxels.VoxelGrid` or an
    occupancy array ``(D, D, D)`` (voxel formats). ``target`` is a path (written atomically) or a binary file object
    (then ``fmt`` is required; a textured OBJ cannot be streamed: it needs side files). No conversion between kinds
    happens here (``lift3d convert`` does that): a mismatch raises :class:`InputError` and writes nothing.
    """
    ext = target_ext(target, fmt)
    name = "<stream>" if is_stream(target) else str(Path(target))  # type: ignore[arg-type]
    f = _output_format(ext, name)
    have = data_kind(obj)
    if have is None:
        raise InputError(f"cannot write a {type(obj).__name__} to {name}")
    writer = f.writers.get(have)
    if writer is None:
        raise InputError(f"{ext} is a {f.kinds[0]} format but the data is a {have}; use `lift3d convert` to convert")
    writer(obj, target, ext)
    return None if is_stream(target) else Path(target)  # type: ignore[arg-type]
