"""Readers for datasets a user has on disk, returning lift3d's sample dict in the canonical frame.

``open_dataset(path)`` recognises the layout: a lift3d dataset (``manifest.json``), ShapeNet-R2N2
(``ShapeNetRendering/`` + ``ShapeNetVox32/``), Pix3D (``pix3d.json``) or ModelNet (``<class>/{train,test}/*.off``).
Every reader returns the sample dict of :class:`lift3d.data.dataset.ShapeDataset` (``images`` (V,3,S,S),
``masks`` (V,1,S,S), ``voxels32`` (32,32,32), ``points`` (N,3) where a mesh exists, ``cameras`` as
``Camera.to_dict()``, ``category``, ``category_index``, ``shape_id``) in the canonical frame, and batches
with :func:`lift3d.data.dataset.collate`. See ``docs/datasets.md`` for each dataset's conventions.
"""

from __future__ import annotations

import os
from pathlib import Path

from lift3d.errors import DatasetError


def detect_layout(path: str | os.PathLike) -> str:
    """``lift3d`` | ``r2n2`` | ``pix3d`` | ``modelnet``; :class:`DatasetError` when none matches."""
    p = Path(path)
    if (p / "manifest.json").is_file():
        return "lift3d"
    if (p / "ShapeNetRendering").is_dir() and (p / "ShapeNetVox32").is_dir():
        return "r2n2"
    if (p / "pix3d.json").is_file():
        return "pix3d"
    if p.is_dir() and (any(p.glob("*/train/*.off")) or any(p.glob("*/test/*.off"))):
        return "modelnet"
    raise DatasetError(f"{p}: unknown dataset layout (expected a lift3d manifest.json, ShapeNetRendering/ + "
                       "ShapeNetVox32/, pix3d.json, or ModelNet <class>/train/*.off)")


def open_dataset(path: str | os.PathLike, **kwargs):
    """Open any supported dataset folder with its reader (keyword arguments go to the reader:
    :class:`~lift3d.data.dataset.ShapeDataset`, :class:`~lift3d.data.readers.r2n2.R2N2Dataset`,
    :class:`~lift3d.data.readers.pix3d.Pix3DDataset` or :class:`~lift3d.data.readers.modelnet.ModelNetDataset`).
    Raises :class:`DatasetError` for an unknown layout."""
    layout = detect_layout(path)
    if layout == "lift3d":
        from lift3d.data.dataset import ShapeDataset

        return ShapeDataset(path, **kwargs)
    if layout == "r2n2":
        from lift3d.data.readers.r2n2 import R2N2Dataset

        return R2N2Dataset(path, **kwargs)
    if layout == "pix3d":
        from lift3d.data.readers.pix3d import Pix3DDataset

        return Pix3DDataset(path, **kwargs)
    from lift3d.data.readers.modelnet import ModelNetDataset

    return ModelNetDataset(path, **kwargs)
