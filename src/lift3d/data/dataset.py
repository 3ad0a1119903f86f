"""PyTorch dataset over a lift3d dataset folder (see :mod:`lift3d.data.generate` for the layout).

Items are read lazily, one shape at a time, so memory stays flat however large the dataset is.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from lift3d.data.preprocess import prepare_image
from lift3d.errors import DatasetError, InputError
from lift3d.geometry.cameras import Camera

SPLITS = ("train", "val", "test", "all")


def read_manifest(root: str | os.PathLike) -> dict:
    """Load and check ``root/manifest.json`` (``voxel_mode`` filled in for older datasets)."""
    path = Path(root) / "manifest.json"
    if not path.is_file():
        raise DatasetError(f"not a lift3d dataset: {path} is missing")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"corrupt manifest {path}: {exc}") from exc
    if manifest.get("format") != "lift3d-dataset" or "shapes" not in manifest:
        raise DatasetError(f"{path} is not a lift3d dataset manifest")
    manifest.setdefault("voxel_mode", "tight")  # datasets written before the option were tight
    return manifest


class ShapeDataset:
    """Views and ground truth of the shapes in one split.

    Args:
        root: dataset folder (has ``manifest.json``).
        split: ``train``, ``val``, ``test`` or ``all``.
        views: number of views per item. Evaluation (``augment=False``) takes views ``0..V-1``; training
            (``augment=True``) takes a random subset. The trainer may change it between batches with
            :meth:`set_num_views` (all items of a batch then share ``V``).
        targets: ground-truth keys to load: any of ``voxels32``, ``voxels64``, ``points``, ``occupancy``.
        image_size: side of the network input images.
        augment: colour jitter, random view subsets and crop jitter.
        seed: seeds the augmentation stream (item ``i`` of epoch ``e`` uses ``(seed, e, i)``).
        cache: keep decoded views and ground truth in RAM after their first read (about 64 KB per 128 px
            view: 0.95 GB for the default training split), so later epochs skip PNG and npz decoding.

    Each item is a dict: ``images`` float32 ``(V, 3, S, S)`` in [0, 1], ``masks`` float32 ``(V, 1, S, S)``,
    ``view_ids`` int64 ``(V,)``, requested targets (``voxels32`` float32 ``(32, 32, 32)``, ``points``
    float32 ``(P, 3)``, ``occ_points`` float32 ``(N, 3)`` + ``occ_labels`` float32 ``(N,)``), ``category``
    str, ``category_index`` int, ``shape_id`` str.
    """

    def __init__(self, root: str | os.PathLike, split: str = "train", views: int = 1,
                 targets: tuple[str, ...] = ("voxels32",), image_size: int = 128, augment: bool = False,
                 seed: int = 0, categories: list[str] | None = None, cache: bool = False) -> None:
        if split not in SPLITS:
            raise InputError(f"unknown split {split!r}; use one of {SPLITS}")
        self.root = Path(root)
        self.manifest = read_manifest(self.root)
        self.categories: list[str] = list(self.manifest["categories"])
        shapes = self.manifest["shapes"]
        if split != "all":
            shapes = [s for s in shapes if s["split"] == split]
        if categories:
            shapes = [s for s in shapes if s["category"] in categories]
        self.shapes = shapes
        self.num_views = int(views)
        self.targets = tuple(targets)
        self.image_size = int(image_size)
        self.augment = augment
        self.seed = seed
        self.epoch = 0
        self._cache: dict | None = {} if cache else None
        self.total_views = int(self.manifest["views"])
        if not 1 <= self.num_views <= self.total_views:
            raise InputError(f"views must be between 1 and {self.total_views}, got {views}")

    def __len__(self) -> int:
        return len(self.shapes)

    def set_num_views(self, v: int) -> None:
        """Number of views returned per item from now on (1..total views)."""
        self.num_views = max(1, min(int(v), self.total_views))

    def set_epoch(self, epoch: int) -> None:
        """Augmentation draws depend on the epoch, so resumed training repeats them exactly."""
        self.epoch = int(epoch)

    def shape_dir(self, i: int) -> Path:
        return self.root / "shapes" / self.shapes[i]["id"]

    def _cached(self, key, load):
        """``load()``, memoised under ``key`` when the dataset caches (arrays are read-only then)."""
        if self._cache is None:
            return load()
        if key not in self._cache:
            value = load()
            for arr in value.values() if isinstance(value, dict) else (value,):
                arr.flags.writeable = False
            self._cache[key] = value
        return self._cache[key]

    def arrays(self, i: int, name: str, keys) -> dict[str, np.ndarray]:
        """Arrays ``keys`` of shape ``i``'s file ``name`` (``gt.npz``, ``geometry.npz``); a missing or corrupt
        file is a DatasetError; with ``cache`` read once and returned read-only."""
        path, keys = self.shape_dir(i) / name, list(keys)
        return self._cached((str(path), tuple(keys)), lambda: self._read_npz(path, keys))

    def _read_npz(self, path: Path, keys: list[str]) -> dict[str, np.ndarray]:
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in keys}
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise DatasetError(f"corrupt or incomplete file {path}: {exc}") from exc

    def _rgba(self, i: int, v: int) -> np.ndarray:
        return self._cached((i, v), lambda: self._read_rgba(i, v))

    def _read_rgba(self, i: int, v: int) -> np.ndarray:
        from PIL import Image

        path = self.shape_dir(i) / f"view_{v:02d}.png"
        try:
            with Image.open(path) as img:
                return np.asarray(img.convert("RGBA"))
        except (OSError, SyntaxError, ValueError) as exc:
            raise DatasetError(f"corrupt or missing image {path}: {exc}") from exc

    def cameras(self, i: int) -> list[Camera]:
        """The calibrated cameras of all views of shape ``i``."""
        path = self.shape_dir(i) / "cameras.json"
        try:
            return [Camera.from_dict(d) for d in json.loads(path.read_text())["views"]]
        except (OSError, json.JSONDecodeError, KeyError) as exc:
            raise DatasetError(f"corrupt or missing cameras file {path}: {exc}") from exc

    def masks_full(self, i: int, view_ids=None) -> list[np.ndarray]:
        """Full-resolution foreground masks bool ``(H, W)`` of the given (default: all) views."""
        ids = range(self.total_views) if view_ids is None else view_ids
        return [self._rgba(i, int(v))[..., 3] >= 128 for v in ids]

    def view_ids(self, i: int) -> np.ndarray:
        """Which views item ``i`` uses: the first V for evaluation, a seeded random subset for training."""
        if not self.augment:
            return np.arange(self.num_views)
        rng = np.random.default_rng([self.seed, self.epoch, i, 1])
        return np.sort(rng.choice(self.total_views, self.num_views, replace=False))

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < len(self):
            raise IndexError(i)
        rng = np.random.default_rng([self.seed, self.epoch, i, 2]) if self.augment else None
        ids = self.view_ids(i)
        imgs, masks = [], []
        for v in ids:
            rgba = self._rgba(i, int(v))
            jitter = rng.uniform([-0.04, -0.04, -0.08], [0.04, 0.04, 0.12]) if rng is not None else None
            img, m = prepare_image(rgba, rgba[..., 3] >= 128, size=self.image_size, jitter=jitter)
            if rng is not None:
                img = _color_jitter(img, rng, m)
            imgs.append(img)
            masks.append(m)
        shape = self.shapes[i]
        item = {
            "images": np.stack(imgs).astype(np.float32), "masks": np.stack(masks).astype(np.float32),
            "view_ids": ids.astype(np.int64), "category": shape["category"],
            "category_index": self.categories.index(shape["category"]), "shape_id": shape["id"],
        }
        keys = [k for k in self.targets if k.startswith("voxels")]
        if "points" in self.targets:
            keys.append("points")
        if "occupancy" in self.targets:
            keys += ["occ_points", "occ_labels"]
        if keys:
            for k, arr in self.arrays(i, "gt.npz", keys).items():
                item[k] = arr.astype(np.float32)
        return item


def _color_jitter(img: np.ndarray, rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    """Brightness, contrast, saturation and channel-gain jitter of the object (background stays white)."""
    m = mask[0] > 0.5
    out = img.copy()
    obj = out[:, m]
    obj = obj * rng.uniform(0.75, 1.25) * rng.uniform(0.9, 1.1, (3, 1))
    mean = obj.mean()
    obj = (obj - mean) * rng.uniform(0.75, 1.25) + mean
    grey = obj.mean(axis=0, keepdims=True)
    obj = grey + (obj - grey) * rng.uniform(0.6, 1.4)
    out[:, m] = np.clip(obj, 0.0, 1.0)
    return out


def collate(items: list[dict]) -> dict:
    """Stack a list of items into a batch of torch tensors (strings kept as lists)."""
    import torch

    batch: dict = {}
    for k in items[0]:
        vals = [it[k] for it in items]
        if isinstance(vals[0], np.ndarray):
            batch[k] = torch.from_numpy(np.stack(vals))
        elif isinstance(vals[0], int):
            batch[k] = torch.tensor(vals)
        else:
            batch[k] = vals
    return batch
