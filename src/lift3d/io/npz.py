"""Byte-reproducible ``.npz`` archives (numpy's own writer stamps the current time into the zip)."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from lift3d.io.atomic import Target, write_output


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
