"""Pix3D (Sun et al. 2018): real photos aligned with CAD models.

``ROOT/pix3d.json`` is a list of records with ``img``, ``mask``, ``model`` (paths relative to ROOT),
``category``, ``img_size`` [w, h], ``focal_length`` (mm, for a 32 mm wide sensor), ``rot_mat`` (3x3) and
``trans_mat`` (3). Convention implemented (Pix3D's own): a model point ``X`` maps to camera coordinates
``Xc = rot_mat @ X + trans_mat`` with the camera looking down +Z, +X to the LEFT and +Y UP in the image, so
``u = w/2 - f Xc_x / Xc_z``, ``v = h/2 - f Xc_y / Xc_z`` with ``f = focal_length / 32 * w`` pixels. The
reader returns the equivalent OpenCV camera (x right, y down) for the model after normalisation into
lift3d's canonical frame (projections are unchanged by the normalisation; only depths scale).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from lift3d.data.readers import DATASETS
from lift3d.data.readers.base import DatasetBase, hash_split, stable_seed
from lift3d.data.readers.common import camera_in_frame, filter_readable, read_rgba, verify_image
from lift3d.data.readers.targets import MESH_TARGETS, mesh_targets
from lift3d.errors import DatasetError, InputError
from lift3d.geometry.cameras import Camera

FLIP = np.diag([-1.0, -1.0, 1.0])  # Pix3D camera (x left, y up) -> OpenCV camera (x right, y down)


def pix3d_camera(rec: dict, centre: np.ndarray | None = None, scale: float = 1.0) -> Camera:
    """OpenCV :class:`Camera` of a Pix3D record, for model coordinates normalised as ``(X - centre) * scale``."""
    w, h = (int(v) for v in rec["img_size"])
    f = float(rec["focal_length"]) / 32.0 * w
    K = np.array([[f, 0.0, w / 2.0], [0.0, f, h / 2.0], [0.0, 0.0, 1.0]])
    R = FLIP @ np.asarray(rec["rot_mat"], dtype=np.float64).reshape(3, 3)
    t = FLIP @ np.asarray(rec["trans_mat"], dtype=np.float64).reshape(3)
    cam = Camera(K, R, t, w, h)
    return cam if centre is None else camera_in_frame(cam, centre, scale)


@DATASETS.register("pix3d")
class Pix3DDataset(DatasetBase):
    """Items of a Pix3D folder: one photo (masked by Pix3D's mask) per item, its camera, and targets derived from the
    normalised CAD model (``voxels32``/``voxels64``, ``points`` + ``normals``, ``occupancy``).

    Args:
        root: folder holding ``pix3d.json``.
        split: ``train`` / ``val`` / ``test`` / ``all``: Pix3D has no official split, so 80/10/10 by a stable hash of
            the CAD model's path salted with ``split_seed`` (all photos of one model share its split).
        views: 1 (one photo per item); ``set_num_views`` clamps to 1.
        targets, image_size, augment, seed, cache: as :class:`lift3d.data.dataset.ShapeDataset` (``cache`` keeps the
            decoded photos and each model's derived targets, which several photos share).
        categories: keep only records of these categories.
        points, occ_samples: sizes ``P`` and ``N`` of the ``points`` and occupancy samples.
        skip_bad, validate: opening checks that every record's files exist; ``validate`` (default: ``skip_bad``)
            also verifies the image/mask and parses the model, so ``skip_bad`` drops corrupt records with a warning.

    ``shape_id`` is the CAD model's folder name (photos of one model share it); ``image_id`` the photo's file stem.
    """

    TARGET_SOURCES = MESH_TARGETS

    def __init__(self, root: str | os.PathLike, split: str = "train", views: int = 1,
                 targets: tuple[str, ...] = ("voxels32",), image_size: int = 128, augment: bool = False,
                 seed: int = 0, categories: list[str] | None = None, cache: bool = False, split_seed: int = 0,
                 points: int = 16384, occ_samples: int = 16384, skip_bad: bool = False,
                 validate: bool | None = None) -> None:
        index = Path(root) / "pix3d.json"
        try:
            records = json.loads(index.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DatasetError(f"cannot read {index}: {exc}") from exc
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise DatasetError(f"{index}: expected a JSON list of records")
        self._setup(root, split, views, targets, image_size, augment, seed, cache, total_views=1)
        self.categories = sorted({r.get("category", "unknown") for r in records})
        if categories:
            records = [r for r in records if r.get("category") in categories]
        if split != "all":
            records = [r for r in records if hash_split(str(r.get("model")), salt=split_seed) == split]
        self.points, self.occ_samples = int(points), int(occ_samples)
        full = skip_bad if validate is None else validate
        self.records = filter_readable(records, self._validate if full else self._check, skip_bad)

    @staticmethod
    def detect(root: Path) -> bool:
        """The Pix3D layout has ``pix3d.json``."""
        return (root / "pix3d.json").is_file()

    def _check(self, rec: dict) -> None:
        for key in ("img", "mask", "model", "rot_mat", "trans_mat", "focal_length", "img_size"):
            if key not in rec:
                raise DatasetError(f"{self.root / 'pix3d.json'}: record without '{key}': {rec.get('img', rec)}")
        for key in ("img", "mask", "model"):
            if not (self.root / rec[key]).is_file():
                raise DatasetError(f"missing file {self.root / rec[key]}")

    def _validate(self, rec: dict) -> None:
        self._check(rec)
        verify_image(self.root / rec["img"])
        verify_image(self.root / rec["mask"])
        self._mesh(rec)

    def _mesh(self, rec: dict):
        from lift3d.io.meshes import load_mesh

        try:
            return load_mesh(self.root / rec["model"])
        except InputError as exc:
            raise DatasetError(f"bad model {self.root / rec['model']}: {exc}") from exc

    def _model(self, rec: dict) -> tuple[np.ndarray, float, dict[str, np.ndarray]]:
        """``(centre (3,), scale, targets)`` of a record's CAD model, normalised as ``(X - centre) * scale``."""
        from lift3d.geometry.normalize import normalization_transform

        def load():
            mesh = self._mesh(rec)
            try:
                centre, scale = normalization_transform(np.asarray(mesh.vertices))
            except InputError as exc:
                raise DatasetError(f"bad model {self.root / rec['model']}: {exc}") from exc
            mesh.vertices = (np.asarray(mesh.vertices) - centre) * scale
            try:
                arrays = mesh_targets(mesh, self.targets, self.points, self.occ_samples, stable_seed(rec["model"]))
            except DatasetError as exc:
                raise DatasetError(f"{self.root / rec['model']}: {exc}") from exc
            return centre, scale, arrays

        return self._memo(("model", rec["model"]), load)

    def __len__(self) -> int:
        return len(self.records)

    def describe(self, i: int) -> tuple[str, str]:
        rec = self.records[i]
        return rec.get("category", "unknown"), Path(rec["model"]).parent.name

    def read_view(self, i: int, v: int) -> tuple[np.ndarray, np.ndarray]:
        rec = self.records[i]
        return self._cached(("view", i), lambda: read_rgba(self.root / rec["img"], self.root / rec["mask"]))

    def camera(self, i: int) -> Camera:
        """The OpenCV camera of photo ``i`` for its model in the canonical frame."""
        centre, scale, _ = self._model(self.records[i])
        return pix3d_camera(self.records[i], centre, scale)

    def extras(self, i: int, ids: np.ndarray) -> dict:
        """``cameras`` ([the photo's camera]) and ``image_id`` (the photo's file stem)."""
        return {"cameras": [self.camera(i).to_dict()], "image_id": Path(self.records[i]["img"]).stem}

    def target_arrays(self, i: int) -> dict[str, np.ndarray]:
        return self._model(self.records[i])[2]
