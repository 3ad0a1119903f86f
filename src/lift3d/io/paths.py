"""Output paths checked before any work: not an input, not a folder, in a folder that exists and is writable.

Every command that writes files (``reconstruct``, ``convert``) calls :func:`check_outputs` with all its outputs and
all its inputs first, so a mistake (``-o photo.png`` for the input photo, an output path that is a folder, a typo
in the folder) costs no computation and never touches an input.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from lift3d.errors import InputError
from lift3d.io.atomic import TEMP_NAME_EXTRA


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when ``a`` and ``b`` name one file: ``os.path.samefile`` when both exist (symlinks, hard links,
    ``./x`` vs ``x``), else equal resolved paths."""
    pa, pb = Path(a), Path(b)
    try:
        if pa.exists() and pb.exists():
            return os.path.samefile(pa, pb)
    except OSError:  # a name too long to look up, a loop of links: not comparable as files, compare as paths
        pass
    return pa.resolve() == pb.resolve()


def short_name(path: str | os.PathLike) -> str:
    """``path`` for a one-line message: a file name over 60 characters is cut in the middle (``abc...xyz.glb``)."""
    p = Path(path)
    return str(p) if len(p.name) <= 60 else str(p.parent / f"{p.name[:40]}...{p.name[-12:]}")


def _check_name_length(p: Path) -> None:
    """Refuse a file name longer than the output's file system allows (usually 255 bytes), counting the temporary
    name it is first written under (:data:`~lift3d.io.atomic.TEMP_NAME_EXTRA`)."""
    try:
        longest = os.pathconf(p.parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        longest = 255
    size = len(os.fsencode(p.name))
    if size + TEMP_NAME_EXTRA > longest:
        raise InputError(f"cannot write {short_name(p)}: the file name is too long ({size} bytes; outputs here may "
                         f"have names of up to {longest - TEMP_NAME_EXTRA} bytes)")


def _writable_folder(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def check_output_file(path: str | os.PathLike, create_folder: bool = False) -> Path:
    """Refuse an output path that is an existing folder, or whose folder is missing, not a folder or not writable.

    With ``create_folder`` the output's folder may be missing if its own parent is writable (the folder that
    ``reconstruct`` fills with one file per image is created when the files are written).
    """
    p = Path(path)
    try:
        return _check_output_file(p, create_folder)
    except OSError as exc:  # a path too long to look up, a loop of symbolic links...
        raise InputError(f"cannot write {short_name(p)}: {exc.strerror or exc}") from exc


def _check_output_file(p: Path, create_folder: bool) -> Path:
    _check_name_length(p)
    if p.is_dir():
        raise InputError(f"output {p} is an existing folder; give a file name")
    folder = p.parent
    if not folder.exists():
        if create_folder and _writable_folder(folder.parent):
            return p
        raise InputError(f"cannot write {p}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise InputError(f"cannot write {p}: {folder} is not a folder")
    if not _writable_folder(folder):
        raise InputError(f"cannot write {p}: the folder {folder} is not writable")
    return p


def check_outputs(outputs: Iterable[str | os.PathLike], inputs: Iterable[str | os.PathLike | None],
                  create_folder: bool = False) -> list[Path]:
    """Check every output (:func:`check_output_file`), and that none is one of ``inputs`` (``None`` entries are
    skipped) or another output; returns the outputs as paths. Raises :class:`InputError` before anything is
    written or read, whatever an input's extension claims."""
    outs = [check_output_file(o, create_folder) for o in outputs]
    ins = [Path(i) for i in inputs if i is not None]
    for k, out in enumerate(outs):
        for src in ins:
            if same_file(out, src):
                raise InputError(f"output {out} is also an input ({src}); refusing to overwrite it, choose "
                                 "another output name")
        for other in outs[:k]:
            if same_file(out, other):
                raise InputError(f"two outputs would be written to {out} (inputs with the same name?)")
    return outs
