"""Atomic file writes: write to a temporary file beside the target, then rename over it.

A crash or Ctrl-C in the middle of a write never leaves a half-written file at the target path. Writers that also
stream (a server sends the result without touching its disk) take a :data:`Target`: a path, written atomically, or a
binary file object, which gets the bytes only once they are complete (:func:`atomic_output`, :func:`write_output`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from lift3d.errors import InputError

Target = str | os.PathLike | BinaryIO
"""Where a writer puts its bytes: a file path (written atomically) or a binary file object (``write(bytes)``)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once: os.umask can only be read by setting it, which is not thread-safe


_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.EIO,
                errno.ENOENT, errno.ENOTDIR, errno.EISDIR}


def _cannot_write(target: Path, exc: OSError) -> InputError:
    """An OS error while writing ``target`` (no space, read-only, no such folder...) as one line for the user."""
    return InputError(f"cannot write {target}: {exc.strerror or exc}")


TEMP_NAME_EXTRA = len("..") + 8 + len(".tmp")
"""Bytes a temporary name (``.{stem}.XXXXXXXX.tmp{suffix}``, 8 random characters from :mod:`tempfile`) adds to
its target's name: an output name must be this much shorter than the file system's limit."""


def _temp_beside(target: Path, suffix: str | None = None) -> Path:
    """A new empty temporary file in ``target``'s folder (created if missing), named like it (same suffix)."""
    sfx = suffix if suffix is not None else "".join(target.suffixes[-1:])
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{sfx}", dir=target.parent)
    except OSError as exc:
        raise _cannot_write(target, exc) from exc
    os.close(fd)
    return Path(tmp)


def _publish(tmp: Path, target: Path) -> None:
    """Give ``tmp`` the mode a plain ``open()`` would (mkstemp makes 0600) and rename it over ``target``."""
    try:
        if tmp.exists():
            tmp.chmod(0o666 & ~_UMASK)
        os.replace(tmp, target)
    except OSError as exc:
        raise _cannot_write(target, exc) from exc


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it to ``path``.

    The temporary name keeps the target's suffix (or ``suffix``) so libraries that pick a format from
    the extension still work. On any exception the temporary file is removed and nothing is renamed. An OS error
    a user can act on (no space, read-only or missing folder, the target is a folder) becomes an
    :class:`~lift3d.errors.InputError` naming the target.
    """
    target = Path(path)
    tmp_path = _temp_beside(target, suffix)
    try:
        try:
            yield tmp_path
        except OSError as exc:
            if exc.errno in _DISK_ERRORS:
                raise _cannot_write(target, exc) from exc
            raise
        _publish(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def all_or_nothing() -> Iterator[Callable[[str | os.PathLike], Path]]:
    """Write several files as one: yields ``stage(path) -> temporary path``; write each output to its temporary
    path. When the block ends without an error every staged file is renamed over its target; on any error all
    of them are removed (and folders made for them, when left empty), so no output of the block is written.

    Each output is staged in a temporary folder beside its target under the target's own name, so a writer that
    adds side files named after its output (an OBJ's ``.mtl`` and texture images) stages them too: everything
    the writer put in that folder is published next to the target.

    The renames happen only once every output is complete and are each atomic (a crash during the renames, a
    matter of microseconds, is the one window in which some outputs can be new and others not).
    """
    staged: list[tuple[Path, Path]] = []  # (temporary folder, target)
    made: list[Path] = []

    def stage(path: str | os.PathLike) -> Path:
        target = Path(path)
        missing = [d for d in (target.parent, *target.parent.parents) if not d.exists()]
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix=f".{target.stem}.", suffix=".tmp", dir=target.parent))
        except OSError as exc:
            raise _cannot_write(target, exc) from exc
        made.extend(missing)  # innermost first
        staged.append((folder, target))
        return folder / target.name

    try:
        yield stage
        for folder, target in staged:
            # The main file last: a reader that sees it finds its side files already in place.
            for item in sorted(folder.iterdir(), key=lambda f: f.name == target.name):
                _publish(item, target.parent / item.name)
            folder.rmdir()
    except BaseException:
        for folder, _ in staged:
            shutil.rmtree(folder, ignore_errors=True)
        for folder in made:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty
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
