"""Atomic file writes: write to a temporary file beside the target, then rename over it.

A crash or Ctrl-C in the middle of a write never leaves a half-written file at the target path. Writers that also
stream (a server sends the result without touching its disk) take a :data:`Target`: a path, written atomically, or a
binary file object, which gets the bytes only once they are complete (:func:`atomic_output`, :func:`write_output`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

Target = str | os.PathLike | BinaryIO
"""Where a writer puts its bytes: a file path (written atomically) or a binary file object (``write(bytes)``)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once: os.umask can only be read by setting it, which is not thread-safe


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it to ``path``.

    The temporary name keeps the target's suffix (or ``suffix``) so libraries that pick a format from
    the extension still work. On any exception the temporary file is removed and nothing is renamed.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sfx = suffix if suffix is not None else "".join(target.suffixes[-1:])
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{sfx}", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():  # mkstemp makes 0600; give the file the mode a plain open() would
            tmp_path.chmod(0o666 & ~_UMASK)
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; on success it replaces ``path`` in one rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        tmp.chmod(0o777 & ~_UMASK)  # mkdtemp makes 0700
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


def is_stream(target: Target) -> bool:
    """True for a binary file object, False for a path."""
    return not isinstance(target, (str, os.PathLike)) and hasattr(target, "write")


def write_output(target: Target, data: bytes) -> None:
    """Write ``data`` to a path atomically, or to a binary file object."""
    if is_stream(target):
        target.write(data)  # type: ignore[union-attr]
    else:
        write_bytes_atomic(target, data)  # type: ignore[arg-type]


@contextlib.contextmanager
def atomic_output(target: Target, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary file path for libraries that only write to a named file (Open3D, trimesh).

    For a path target this is :func:`atomic_path` (renamed over the target on success). For a binary file object the
    temporary file (named with ``suffix``, so libraries that go by the extension work) lives in a private temporary
    folder and its bytes are copied into the stream on success; on failure the stream gets nothing.
    """
    if not is_stream(target):
        with atomic_path(target) as tmp:  # type: ignore[arg-type]
            yield tmp
        return
    with tempfile.TemporaryDirectory(prefix="lift3d.") as folder:
        tmp = Path(folder) / f"out{suffix}"
        yield tmp
        with open(tmp, "rb") as f:
            shutil.copyfileobj(f, target)  # type: ignore[arg-type]
