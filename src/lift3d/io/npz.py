"""Byte-reproducible ``.npz`` archives (numpy's own writer stamps the current time into the zip)."""

from __future__ import annotations

import io
import zipfile
import zlib

import numpy as np

from lift3d.io.atomic import Target, write_output

READ_ERRORS = (OSError, ValueError, TypeError, KeyError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError,
               RuntimeError)
"""What ``np.load`` of a damaged ``.npz`` raises: a bad or truncated zip (BadZipFile, EOFError), a corrupt deflate
stream (zlib.error), an unsupported compression method (NotImplementedError), an encrypted member (RuntimeError), a
bad ``.npy`` header or a pickle refused (ValueError)... A reader catches these and raises one FormatError line."""


def member_shape(z: np.lib.npyio.NpzFile, key: str) -> tuple[int, ...]:
    """Shape of array ``key`` of an open ``np.load`` archive, from its header (nothing is decompressed)."""
    with z.zip.open(f"{key}.npy") as f:
        major, _ = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        return tuple(read(f)[0])


def save_npz(target: Target, compress: bool = True, **arrays: np.ndarray) -> None:
    """Write arrays to an ``.npz`` readable by ``np.load``; same arrays -> identical bytes.

    ``target`` is a path (written atomically) or a binary file object.
    """
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            zf.writestr(info, buf.getvalue())
    write_output(target, out.getvalue())
