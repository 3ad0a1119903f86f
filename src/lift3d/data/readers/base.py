"""What every dataset reader shares: the common constructor keywords, view selection and augmentation, the RAM
cache, splits by a stable hash of the shape id, and target checking.

A reader subclasses :class:`DatasetBase`, calls :meth:`DatasetBase._setup` from its constructor and implements
``__len__``, :meth:`~DatasetBase.describe`, :meth:`~DatasetBase.read_view` (for datasets with images),
:meth:`~DatasetBase.target_arrays` and optionally :meth:`~DatasetBase.extras`; ``__getitem__``,
``set_num_views`` and ``set_epoch`` then meet :class:`lift3d.data.protocol.ShapeDatasetProtocol`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from lift3d.data.degrade import DegradeConfig, degrade_image, perturb_view
from lift3d.data.preprocess import prepare_image
from lift3d.data.protocol import SPLITS, TARGETS
from lift3d.errors import DatasetError, InputError

SPLIT_FRACTIONS = (0.8, 0.1, 0.1)  # train / val / test of datasets without an official split


def stable_unit(key: str, salt: int = 0) -> float:
    """A number in [0, 1) that depends only on ``(salt, key)`` (BLAKE2b; same on every machine and run)."""
    digest = hashlib.blake2b(f"{salt}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2.0 ** 64


def stable_seed(key: str) -> int:
    """A 32-bit seed for per-shape draws (surface samples, occupancy queries) that depends only on ``key``."""
    return int(stable_unit(key, salt=-1) * 2 ** 32)


def hash_split(key: str, fractions: tuple[float, float, float] = SPLIT_FRACTIONS, salt: int = 0) -> str:
    """``train`` / ``val`` / ``test`` of a shape from a stable hash of its id: independent of which other shapes
    are present, so filtering categories or dropping bad files never moves a shape to another split."""
    u = stable_unit(key, salt)
    return "train" if u < fractions[0] else "val" if u < fractions[0] + fractions[1] else "test"


def check_split(split: str) -> str:
    """``split`` if it is one of :data:`~lift3d.data.protocol.SPLITS`, else :class:`InputError`."""
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; use one of {SPLITS}")
    return split


def check_targets(targets: Iterable[str], available: dict[str, str], source: str) -> tuple[str, ...]:
    """``targets`` as a tuple; :class:`DatasetError` naming the first one that is unknown or that ``source``
    cannot provide (``available``: target -> how it is obtained)."""
    targets = tuple(targets)
    for t in targets:
        if t not in TARGETS:
            raise DatasetError(f"unknown target {t!r}; known targets: {', '.join(TARGETS)}")
        if t not in available:
            raise DatasetError(f"{source} cannot provide target {t!r} (it provides {', '.join(available)})")
    return targets


class DatasetBase:
    """Shared machinery of the readers (see the module docstring); attributes as in the protocol."""

    #: target name -> how this reader obtains it ("exact", "derived from ..."); readers may compute it per folder
    TARGET_SOURCES: ClassVar[dict[str, str]] = {}
    #: how to make a dataset without images trainable ({root} is filled in)
    RENDER_HINT: ClassVar[str] = "render it into a trainable lift3d dataset with `lift3d data generate --meshes {root}`"

    def _setup(self, root, split: str, views: int, targets, image_size: int, augment: bool, seed: int,
               cache: bool, total_views: int, degrade: bool = False) -> None:
        """Set and check the common attributes (call once the reader knows ``total_views``).

        ``degrade``: with ``augment``, also degrade the views like real photos (:mod:`lift3d.data.degrade`: imperfect
        masks, blur, noise, JPEG; ranges in ``self.degrade_config``). Off by default, so a reader opened directly
        gives clean (if jittered) views; the trainer switches it on for its training set (``data.degrade``) by
        setting the attribute, which needs no keyword in each reader's constructor.
        """
        self.root = Path(root)
        self.split = check_split(split)
        self.targets = check_targets(targets, self.available_targets(), f"{type(self).__name__} ({self.root})")
        self.num_views = int(views)
        self.image_size = int(image_size)
        self.augment = augment
        self.degrade = bool(degrade)
        self.degrade_config = DegradeConfig()
        self.seed = seed
        self.epoch = 0
        self._cache: dict | None = {} if cache else None
        self.total_views = int(total_views)
        if self.total_views == 0 and self.num_views != 0:
            raise DatasetError(f"{self.root} has no images (views must be 0); "
                               + self.RENDER_HINT.format(root=self.root))
        if self.total_views and not 1 <= self.num_views <= self.total_views:
            raise InputError(f"views must be between 1 and {self.total_views}, got {views}")

    def available_targets(self) -> dict[str, str]:
        """Targets this dataset can return -> how each is obtained (``exact`` or ``derived from ...``)."""
        return dict(self.TARGET_SOURCES)

    def set_num_views(self, v: int) -> None:
        """Number of views returned per item from now on (1..total views)."""
        self.num_views = min(max(1, int(v)), self.total_views)

    def set_epoch(self, epoch: int) -> None:
        """Augmentation draws depend on the epoch, so resumed training repeats them exactly."""
        self.epoch = int(epoch)

    def view_ids(self, i: int) -> np.ndarray:
        """Which views item ``i`` uses ``(V,)``: the first V for evaluation, a seeded random subset for training."""
        if not self.augment or self.num_views == 0:
            return np.arange(self.num_views)
        rng = np.random.default_rng([self.seed, self.epoch, i, 1])
        return np.sort(rng.choice(self.total_views, self.num_views, replace=False))

    def _cached(self, key: Hashable, load: Callable[[], Any]) -> Any:
        """``load()``, memoised under ``key`` when the dataset caches (arrays are read-only then)."""
        if self._cache is None:
            return load()
        if key not in self._cache:
            value = load()
            arrays = value.values() if isinstance(value, dict) else value if isinstance(value, tuple) else (value,)
            for arr in arrays:
                if isinstance(arr, np.ndarray):
                    arr.flags.writeable = False
            self._cache[key] = value
        return self._cache[key]

    def _memo(self, key: Hashable, load: Callable[[], Any]) -> Any:
        """:meth:`_cached`, and without a cache still the last value: an item's cameras and targets share it."""
        last = getattr(self, "_last", None)
        if last is not None and last[0] == key:
            return last[1]
        value = self._cached(key, load)
        self._last = (key, value)
        return value

    # ------------------------------------------------------------- hooks of the readers
    def __len__(self) -> int:
        raise NotImplementedError

    def describe(self, i: int) -> tuple[str, str]:
        """``(category, shape_id)`` of item ``i``."""
        raise NotImplementedError

    def read_view(self, i: int, v: int) -> tuple[np.ndarray, np.ndarray]:
        """View ``v`` of item ``i``: ``(rgba uint8 (H, W, 4), foreground bool (H, W))``."""
        raise NotImplementedError

    def extras(self, i: int, ids: np.ndarray) -> dict:
        """Further item keys (e.g. ``cameras`` of views ``ids``)."""
        return {}

    def target_arrays(self, i: int) -> dict[str, np.ndarray]:
        """The arrays of the requested targets of item ``i`` (any float dtype; converted to float32 copies)."""
        raise NotImplementedError

    # ------------------------------------------------------------- the item
    def prepared_views(self, i: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Views ``ids`` of item ``i`` preprocessed like inference inputs -> ``images (V, 3, S, S)``,
        ``masks (V, 1, S, S)`` float32; with ``augment`` crop and colour jitter drawn from ``(seed, epoch, i)``, and
        with ``degrade`` too the degradations of :mod:`lift3d.data.degrade` (``masks`` is then the perturbed mask
        each image was composited with)."""
        if len(ids) == 0:
            s = self.image_size
            return np.zeros((0, 3, s, s), np.float32), np.zeros((0, 1, s, s), np.float32)
        rng = np.random.default_rng([self.seed, self.epoch, i, 2]) if self.augment else None
        degrade = rng is not None and self.degrade
        imgs, masks = [], []
        for v in ids:
            rgba, fg = self.read_view(i, int(v))
            jitter = rng.uniform([-0.04, -0.04, -0.08], [0.04, 0.04, 0.12]) if rng is not None else None
            if degrade:
                # A child stream of rng (spawning draws nothing from rng itself), so crop and colour jitter are the
                # same with degradation on or off, and every draw is still a function of (seed, epoch, i).
                drng = rng.spawn(1)[0]
                # The mask is perturbed at full resolution BEFORE compositing: prepare_image then composites and
                # crops with the imperfect mask, exactly as it would a real photo's, so removed pixels become white
                # background, added ones show the photo there (white for renders), and image and mask stay aligned.
                rgba, fg = perturb_view(rgba, fg, drng, self.degrade_config, self.image_size)
            try:
                img, m = prepare_image(rgba, fg, size=self.image_size, jitter=jitter)
            except InputError as exc:
                raise DatasetError(f"{self.root}: shape {self.describe(i)[1]}, view {int(v)}: {exc}") from exc
            if rng is not None:
                img = color_jitter(img, rng, m)
            if degrade:
                img = degrade_image(img, drng, self.degrade_config)  # the whole photo: blur, noise, JPEG
            imgs.append(img)
            masks.append(m)
        return np.stack(imgs).astype(np.float32), np.stack(masks).astype(np.float32)

    def __getitem__(self, i: int) -> dict:
        """The item dict of :mod:`lift3d.data.protocol`."""
        if not 0 <= i < len(self):
            raise IndexError(i)
        ids = self.view_ids(i)
        images, masks = self.prepared_views(i, ids)
        category, shape_id = self.describe(i)
        item = {"images": images, "masks": masks, "view_ids": np.asarray(ids).astype(np.int64),
                "category": category, "category_index": self.categories.index(category), "shape_id": shape_id}
        item.update(self.extras(i, ids))
        if self.targets:
            for k, arr in self.target_arrays(i).items():
                item[k] = arr.astype(np.float32)
        return item


def color_jitter(img: np.ndarray, rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    """Brightness, contrast, saturation and channel-gain jitter of the object ``(3, S, S)`` (background stays
    white; ``mask`` ``(1, S, S)``)."""
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
