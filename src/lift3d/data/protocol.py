"""The interface every trainable shape dataset meets (procedural data, ShapeNet-R2N2, Pix3D, ModelNet).

The trainer, evaluation, calibration and baselines only rely on :class:`ShapeDatasetProtocol`, so any reader that
meets it trains with ``lift3d train CONFIG --data FOLDER``. Readers are registered by layout name in
:data:`lift3d.data.readers.DATASETS` and opened with :func:`lift3d.data.readers.open_dataset`.

Item dict (``dataset[i]``), ``V`` = ``num_views``, ``S`` = ``image_size``:

======================  ====================  =========================================================================
key                     type / shape          meaning
======================  ====================  =========================================================================
``images``              float32 (V, 3, S, S)  views in [0, 1], cropped to the object and composited on white
``masks``               float32 (V, 1, S, S)  foreground of each view (1 = object)
``view_ids``            int64 (V,)            which of the shape's ``total_views`` views were used
``category``            str                   category name, one of ``categories``
``category_index``      int                   ``categories.index(category)``
``shape_id``            str                   the 3D shape (splits never share one); several items may share it
``voxels32``            float32 (32, 32, 32)  target ``voxels32``: occupancy 0/1, ``grid[x, y, z]`` over [-0.5, 0.5]^3
``voxels64``            float32 (64, 64, 64)  target ``voxels64`` (where the source allows it)
``points``              float32 (P, 3)        target ``points``: surface samples in the canonical frame
``normals``             float32 (P, 3)        with ``points``: unit normals at those samples
``occ_points``          float32 (N, 3)        target ``occupancy``: query points, half near the surface, half uniform in
                                              [-0.55, 0.55]^3 (the canonical cube [-0.5, 0.5]^3 plus a margin)
``occ_labels``          float32 (N,)          with ``occ_points``: 1 inside the shape, 0 outside
``cameras``             list of V dicts       optional: ``Camera.to_dict()`` of each view, in the canonical frame
======================  ====================  =========================================================================

``P`` and ``N`` are fixed per dataset, so the items of one batch stack with :func:`lift3d.data.dataset.collate`
(all items of a batch share ``V`` through :meth:`ShapeDatasetProtocol.set_num_views`). A reader that cannot
provide a requested target, exactly or by a sound derivation, raises :class:`~lift3d.errors.DatasetError` naming it.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from lift3d.errors import DatasetError

SPLITS = ("train", "val", "test", "all")
# target name -> the item keys it adds
TARGETS: dict[str, tuple[str, ...]] = {
    "voxels32": ("voxels32",),
    "voxels64": ("voxels64",),
    "points": ("points", "normals"),
    "occupancy": ("occ_points", "occ_labels"),
}
ITEM_KEYS = ("images", "masks", "view_ids", "category", "category_index", "shape_id")


@runtime_checkable
class ShapeDatasetProtocol(Protocol):
    """A dataset of shapes with views and 3D ground truth that ``lift3d train`` can train on.

    Attributes:
        categories: category names; ``category_index`` of an item indexes this list. It is the same list for
            every split of one dataset folder.
        total_views: views available per shape (0 for a dataset without images, which cannot train an
            image-to-3D model).
        num_views: views returned per item now (``V``).
        targets: the target names requested at construction (keys of :data:`TARGETS`).
    """

    categories: list[str]
    total_views: int
    num_views: int
    targets: tuple[str, ...]

    def __len__(self) -> int:
        """Number of items in the split."""
        ...

    def __getitem__(self, i: int) -> dict[str, Any]:
        """Item ``i`` (see the module docstring); :class:`IndexError` outside ``0..len-1``."""
        ...

    def set_num_views(self, v: int) -> None:
        """Return ``v`` views per item from now on, clamped to ``1..total_views``."""
        ...

    def set_epoch(self, epoch: int) -> None:
        """Augmentation draws depend on ``(seed, epoch, index)``, so a resumed run repeats them exactly."""
        ...


def check_item(item: dict, targets: tuple[str, ...] | list[str], image_size: int, views: int) -> None:
    """Raise :class:`DatasetError` (naming the key) unless ``item`` has the documented keys, shapes and dtypes.

    Meant for tests of readers and for anyone writing a new one.
    """
    expect = {"images": ((views, 3, image_size, image_size), np.float32),
              "masks": ((views, 1, image_size, image_size), np.float32), "view_ids": ((views,), np.int64)}
    for key in ITEM_KEYS + tuple(k for t in targets for k in TARGETS[t]):
        if key not in item:
            raise DatasetError(f"item has no {key!r}")
    for key in ("points", "normals", "occ_points"):
        if key in item:
            expect[key] = ((len(item[key]), 3), np.float32)
    for res in (32, 64):
        expect[f"voxels{res}"] = ((res, res, res), np.float32)
    if "occ_points" in item:
        expect["occ_labels"] = ((len(item["occ_points"]),), np.float32)
    for key, (shape, dtype) in expect.items():
        arr = item.get(key)
        if arr is not None and (not isinstance(arr, np.ndarray) or arr.shape != shape or arr.dtype != dtype):
            got = (arr.shape, arr.dtype) if isinstance(arr, np.ndarray) else type(arr).__name__
            raise DatasetError(f"item {key!r}: expected {np.dtype(dtype).name} {shape}, got {got}")
    if "normals" in item and item["normals"].shape != item["points"].shape:
        raise DatasetError("item 'normals' must match 'points'")
    if not isinstance(item["category"], str) or not isinstance(item["shape_id"], str):
        raise DatasetError("item 'category' and 'shape_id' must be str")
    if not isinstance(item["category_index"], int):
        raise DatasetError("item 'category_index' must be int")
    if item["images"].size and not (0.0 <= item["images"].min() and item["images"].max() <= 1.0):
        raise DatasetError("item 'images' must lie in [0, 1]")
