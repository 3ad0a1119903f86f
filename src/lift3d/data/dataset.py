"""PyTorch dataset over a lift3d dataset folder (see :mod:`lift3d.data.generate` for the layout).

Items are read lazily, one shape at a time, so memory stays flat however large the dataset is.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from lift3d.data.readers import DATASETS
from lift3d.data.readers.base import DatasetBase, check_split
from lift3d.errors import DatasetError
from lift3d.geometry.cameras import Camera

MANIFEST_KEYS: dict[str, tuple[type, str]] = {  # required keys besides format -> (type, what they must be)
    "views": (int, "a positive integer"),
    "image_size": (int, "a positive integer"), "categories": (list, "a list of category names"),
    "shapes": (list, "a list of {id, category, split} records"),
}
SHAPE_KEYS = ("id", "category", "split")


def read_manifest(root: str | os.PathLike) -> dict:
    """Load and check ``root/manifest.json`` (``voxel_mode`` filled in for older datasets); a file that is not such
    a manifest (not JSON, a list, missing keys, wrong types) is a :class:`DatasetError` naming the key."""
    path = Path(root) / "manifest.json"
    if not path.is_file():
        raise DatasetError(f"not a lift3d dataset: {path} is missing")
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: JSONDecodeError and UnicodeDecodeError
        raise DatasetError(f"corrupt manifest {path}: {str(exc).splitlines()[0]}") from exc
    check_manifest(manifest, path)
    manifest.setdefault("voxel_mode", "tight")  # datasets written before the option were tight
    return manifest


def check_manifest(manifest: object, path: Path) -> None:
    """Raise :class:`DatasetError` (one line naming the key) unless ``manifest`` has the keys, types and shape
    records of a lift3d dataset manifest."""
    if not isinstance(manifest, dict):
        raise DatasetError(f"{path} is not a lift3d dataset manifest: expected a JSON object, got a "
                           f"{type(manifest).__name__}")
    if manifest.get("format") != "lift3d-dataset":
        raise DatasetError(f"{path} is not a lift3d dataset manifest (format {manifest.get('format')!r})"[:300])
    for key, (kind, what) in MANIFEST_KEYS.items():
        value = manifest.get(key)
        if not isinstance(value, kind) or isinstance(value, bool) or (kind is int and value < 1):
            raise DatasetError(f"{path}: '{key}' must be {what}, got {value!r}"[:300])
    res = manifest.get("voxel_res", [32])
    if not isinstance(res, list) or not all(isinstance(r, int) and not isinstance(r, bool) and r > 0 for r in res):
        raise DatasetError(f"{path}: 'voxel_res' must be a list of positive integers, got {res!r}")
    cats = manifest["categories"]
    if not all(isinstance(c, str) for c in cats):
        raise DatasetError(f"{path}: 'categories' must be a list of names, got {cats!r}"[:300])
    for n, rec in enumerate(manifest["shapes"]):
        bad = [k for k in SHAPE_KEYS if not isinstance(rec, dict) or not isinstance(rec.get(k), str)]
        if bad:
            raise DatasetError(f"{path}: shapes[{n}] needs string {', '.join(bad)}, got {rec!r}"[:300])
        if rec["category"] not in cats or rec["split"] not in ("train", "val", "test"):
            raise DatasetError(f"{path}: shapes[{n}] ({rec['id']}) has category {rec['category']!r} (not in "
                               f"'categories') or split {rec['split']!r} (not train, val or test)")


@DATASETS.register("lift3d")
class ShapeDataset(DatasetBase):
    """Views and ground truth of the shapes in one split of a folder written by ``lift3d data generate``.

    Args:
        root: dataset folder (has ``manifest.json``).
        split: ``train``, ``val``, ``test`` or ``all`` (the manifest's seeded per-category split by shape).
        views: number of views per item. Evaluation (``augment=False``) takes views ``0..V-1``; training
            (``augment=True``) takes a random subset. The trainer may change it between batches with
            :meth:`set_num_views` (all items of a batch then share ``V``).
        targets: ground-truth keys to load: any of ``voxels32``, ``voxels64`` (when generated), ``points``
            (+ ``normals``), ``occupancy``; all exact (read from ``gt.npz``).
        image_size: side of the network input images.
        augment: colour jitter, random view subsets and crop jitter.
        seed: seeds the augmentation stream (item ``i`` of epoch ``e`` uses ``(seed, e, i)``).
        categories: keep only shapes of these categories (``self.categories`` still lists all of them).
        cache: keep decoded views and ground truth in RAM after their first read (about 64 KB per 128 px
            view: 0.95 GB for the default training split), so later epochs skip PNG and npz decoding.

    Items follow :mod:`lift3d.data.protocol`: ``images`` float32 ``(V, 3, S, S)`` in [0, 1], ``masks`` float32
    ``(V, 1, S, S)``, ``view_ids`` int64 ``(V,)``, requested targets (``voxels32`` float32 ``(32, 32, 32)``,
    ``points`` + ``normals`` float32 ``(P, 3)``, ``occ_points`` float32 ``(N, 3)`` + ``occ_labels`` float32
    ``(N,)``), ``category`` str, ``category_index`` int, ``shape_id`` str.
    """

    def __init__(self, root: str | os.PathLike, split: str = "train", views: int = 1,
                 targets: tuple[str, ...] = ("voxels32",), image_size: int = 128, augment: bool = False,
                 seed: int = 0, categories: list[str] | None = None, cache: bool = False) -> None:
        check_split(split)
        self.manifest = read_manifest(root)
        self.categories: list[str] = list(self.manifest["categories"])
        shapes = self.manifest["shapes"]
        if split != "all":
            shapes = [s for s in shapes if s["split"] == split]
        if categories:
            shapes = [s for s in shapes if s["category"] in categories]
        self.shapes = shapes
        self._setup(root, split, views, targets, image_size, augment, seed, cache, int(self.manifest["views"]))
        missing = [s["id"] for s in shapes if not (self.root / "shapes" / s["id"]).is_dir()]
        if missing:
            raise DatasetError(f"{self.root}: {len(missing)} shape folder(s) of split {split} listed in manifest.json "
                               "are missing, "
                               f"first {self.root / 'shapes' / missing[0]} (re-run `lift3d data generate` with the "
                               "same settings to rewrite them)")

    @staticmethod
    def detect(root: Path) -> bool:
        """A lift3d dataset has ``manifest.json``."""
        return (root / "manifest.json").is_file()

    def available_targets(self) -> dict[str, str]:
        voxels = {f"voxels{r}": "exact" for r in self.manifest.get("voxel_res", [32])}
        return {**voxels, "points": "exact", "occupancy": "exact"}

    def __len__(self) -> int:
        return len(self.shapes)

    def shape_dir(self, i: int) -> Path:
        return self.root / "shapes" / self.shapes[i]["id"]

    def describe(self, i: int) -> tuple[str, str]:
        return self.shapes[i]["category"], self.shapes[i]["id"]

    def arrays(self, i: int, name: str, keys) -> dict[str, np.ndarray]:
        """Arrays ``keys`` of shape ``i``'s file ``name`` (``gt.npz``, ``geometry.npz``); a missing or corrupt
        file is a DatasetError; with ``cache`` read once and returned read-only."""
        path, keys = self.shape_dir(i) / name, list(keys)
        return self._cached((str(path), tuple(keys)), lambda: self._read_npz(path, keys))

    def _read_npz(self, path: Path, keys: list[str]) -> dict[str, np.ndarray]:
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in keys}
        except FileNotFoundError as exc:
            raise DatasetError(f"missing file {path}") from exc
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise DatasetError(f"corrupt or incomplete file {path}: {exc}") from exc

    def _rgba(self, i: int, v: int) -> np.ndarray:
        return self._cached((i, v), lambda: self._read_rgba(i, v))

    def _read_rgba(self, i: int, v: int) -> np.ndarray:
        from PIL import Image

        path = self.shape_dir(i) / f"view_{v:02d}.png"
        try:
            with Image.open(path) as img:
                return np.asarray(img.convert("RGBA"))
        except FileNotFoundError as exc:
            raise DatasetError(f"missing image {path}") from exc
        except (OSError, SyntaxError, ValueError, zlib.error) as exc:
            raise DatasetError(f"corrupt image {path}: {exc}") from exc

    def read_view(self, i: int, v: int) -> tuple[np.ndarray, np.ndarray]:
        rgba = self._rgba(i, v)
        return rgba, rgba[..., 3] >= 128

    def cameras(self, i: int) -> list[Camera]:
        """The calibrated cameras of all views of shape ``i``."""
        path = self.shape_dir(i) / "cameras.json"
        try:
            return [Camera.from_dict(d) for d in json.loads(path.read_text())["views"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DatasetError(f"corrupt or missing cameras file {path}: {exc}") from exc

    def masks_full(self, i: int, view_ids=None) -> list[np.ndarray]:
        """Full-resolution foreground masks bool ``(H, W)`` of the given (default: all) views."""
        ids = range(self.total_views) if view_ids is None else view_ids
        return [self._rgba(i, int(v))[..., 3] >= 128 for v in ids]

    def target_arrays(self, i: int) -> dict[str, np.ndarray]:
        keys = [k for k in self.targets if k.startswith("voxels")]
        if "points" in self.targets:
            keys += ["points", "normals"]
        if "occupancy" in self.targets:
            keys += ["occ_points", "occ_labels"]
        return self.arrays(i, "gt.npz", keys)


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
