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


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_cameras(path: Path, views: int, image_size: int | None = None) -> list[Camera]:
    """The cameras of a shape's ``cameras.json`` (``{"views": [{K, R, t, width, height, ...}, ...]}``).

    A missing or unparsable file, fewer entries than the dataset's ``views``, or an entry whose ``K`` / ``R`` is not a
    finite 3x3 matrix (``K`` a pinhole intrinsics matrix with positive focal lengths, ``R`` a rotation), ``t`` not 3
    finite numbers or ``width`` / ``height`` not positive integers (equal to ``image_size`` when given) is a
    :class:`DatasetError`: one line naming the file and the problem.
    """
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError(f"missing cameras file {path}") from exc
    except (OSError, ValueError) as exc:  # ValueError: JSONDecodeError and UnicodeDecodeError
        raise DatasetError(f"corrupt cameras file {path}: {str(exc).splitlines()[0]}") from exc
    entries = data.get("views") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise DatasetError(f"corrupt cameras file {path}: expected an object with a 'views' list, got {_short(data)}")
    if len(entries) < views:
        raise DatasetError(f"cameras file {path} has {len(entries)} camera(s); the dataset has {views} views per shape")
    return [_camera(entry, f"cameras file {path}: views[{n}]", image_size) for n, entry in enumerate(entries)]


def _camera(entry: object, where: str, image_size: int | None) -> Camera:
    if not isinstance(entry, dict):
        raise DatasetError(f"{where} must be an object with K, R, t, width and height, got {_short(entry)}")
    arrays = {}
    for key, shape in (("K", (3, 3)), ("R", (3, 3)), ("t", (3,))):
        try:
            arr = np.asarray(entry.get(key), dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
        if arr is None or arr.shape != shape or not np.isfinite(arr).all():
            what = "a 3 x 3 matrix of finite numbers" if len(shape) == 2 else "3 finite numbers"
            raise DatasetError(f"{where}: {key} must be {what}, got {_short(entry.get(key))}")
        arrays[key] = arr
    k, r = arrays["K"], arrays["R"]
    if not (k[0, 0] > 0 and k[1, 1] > 0 and np.allclose(k[2], (0.0, 0.0, 1.0))):
        raise DatasetError(f"{where}: K is not pinhole intrinsics (positive focal lengths, last row 0 0 1): "
                           f"{_short(k.tolist())}")
    if not np.allclose(r @ r.T, np.eye(3), atol=1e-3):
        raise DatasetError(f"{where}: R is not a rotation matrix: {_short(r.tolist())}")
    size = {}
    for key in ("width", "height"):
        value = entry.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer() \
                or value < 1 or (image_size is not None and value != image_size):
            want = f"{image_size} (the dataset's image size)" if image_size is not None else "a positive integer"
            raise DatasetError(f"{where}: {key} must be {want}, got {_short(value)}")
        size[key] = int(value)
    return Camera(k, r, arrays["t"], size["width"], size["height"])


def check_ground_truth(arrays: dict[str, np.ndarray], path: Path, manifest: dict | None = None) -> None:
    """Raise :class:`DatasetError` naming ``path`` and the array unless the ground-truth ``arrays`` of a ``gt.npz``
    have the documented shapes: ``voxelsR`` ``(R, R, R)``, ``points`` / ``normals`` / ``occ_points`` ``(P, 3)``
    finite, ``occ_labels`` ``(N,)``, all numeric; with a ``manifest``, ``P`` and ``N`` as it records them
    (``points``, ``occ_samples``), so the items of one batch stack."""
    groups = {"points": ("points", "points"), "normals": ("points", "points"),  # key -> (manifest key, base array)
              "occ_points": ("occ_samples", "occ_points"), "occ_labels": ("occ_samples", "occ_points")}
    for key, arr in arrays.items():
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise DatasetError(f"{path}: '{key}' holds {arr.dtype} values, not numbers")
        if key.startswith("voxels"):
            res = int(key[len("voxels"):])
            expected: tuple = (res, res, res)
        else:
            setting, base = groups[key]
            want = (manifest or {}).get(setting)
            ref = arrays.get(base, arr)
            n = want if isinstance(want, int) and not isinstance(want, bool) else ref.shape[0] if ref.ndim else 0
            expected = (n,) if key == "occ_labels" else (n, 3)
        if arr.shape != expected or arr.size == 0:
            raise DatasetError(f"{path}: '{key}' has shape {arr.shape}, expected {expected}")
        if key in ("points", "normals", "occ_points") and not np.isfinite(arr).all():
            raise DatasetError(f"{path}: '{key}' has NaN or infinite values")


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
        """The calibrated cameras of all views of shape ``i`` (checked: see :func:`read_cameras`)."""
        return read_cameras(self.shape_dir(i) / "cameras.json", self.total_views, int(self.manifest["image_size"]))

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
        arrays = self.arrays(i, "gt.npz", keys)
        check_ground_truth(arrays, self.shape_dir(i) / "gt.npz", self.manifest)
        return arrays


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
