"""Dataset readers behind one protocol (:class:`lift3d.data.protocol.ShapeDatasetProtocol`), registered by layout.

``open_dataset(path, **kwargs)`` recognises the layout through :data:`DATASETS`: a lift3d dataset
(``manifest.json``), ShapeNet-R2N2 (``ShapeNetRendering/`` + ``ShapeNetVox32/``), Pix3D (``pix3d.json``) or ModelNet
(``<class>/{train,test}/*.off``). Every reader takes the same keywords (``split``, ``views``, ``targets``,
``image_size``, ``augment``, ``seed``, ``categories``, ``cache``, plus its own), returns the item dict of
:mod:`lift3d.data.protocol` in the canonical frame, and batches with :func:`lift3d.data.dataset.collate`. A new
layout registers itself with ``@DATASETS.register("name")`` on a class with a static ``detect(root) -> bool``.
See ``docs/datasets.md`` for each dataset's conventions.
"""

from __future__ import annotations

import os
from pathlib import Path

from lift3d.errors import DatasetError
from lift3d.registry import Registry

DATASETS: Registry = Registry("dataset layout", DatasetError, modules=(
    "lift3d.data.dataset", "lift3d.data.readers.r2n2", "lift3d.data.readers.pix3d", "lift3d.data.readers.modelnet"))


def detect_layout(path: str | os.PathLike) -> str:
    """Name of the registered layout whose ``detect`` accepts ``path`` (``lift3d``, ``r2n2``, ``pix3d``, ``modelnet``);
    :class:`DatasetError` when none does, or when several do (then pass ``layout=`` to :func:`open_dataset`)."""
    p = Path(path)
    found = [name for name in DATASETS if p.is_dir() and DATASETS.get(name).detect(p)]
    if len(found) == 1:
        return found[0]
    if found:
        raise DatasetError(f"{p} matches several dataset layouts ({', '.join(found)}); name one (layout=...)")
    raise DatasetError(f"{p}: unknown dataset layout (expected a lift3d manifest.json, ShapeNetRendering/ + "
                       "ShapeNetVox32/, pix3d.json, or ModelNet <class>/train/*.off; a folder of meshes becomes a "
                       f"dataset with `lift3d data generate --meshes {p} --out DIR`)")


def open_dataset(path: str | os.PathLike, layout: str | None = None, **kwargs):
    """Open a dataset folder with the reader of its layout (detected unless ``layout`` names one); keyword
    arguments go to the reader (:class:`~lift3d.data.dataset.ShapeDataset`,
    :class:`~lift3d.data.readers.r2n2.R2N2Dataset`, :class:`~lift3d.data.readers.pix3d.Pix3DDataset`,
    :class:`~lift3d.data.readers.modelnet.ModelNetDataset`). Unknown layouts and keywords raise
    :class:`DatasetError`."""
    return DATASETS.build(layout or detect_layout(path), root=path, **kwargs)
