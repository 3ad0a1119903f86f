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

from lift3d.data.readers.common import camera_in_frame, filter_readable, read_view, sample_dict, verify_image
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


class Pix3DDataset:
    """Samples of a Pix3D folder: the photo (masked by Pix3D's mask), its camera, 32^3 voxels and surface
    points of the normalised CAD model."""

    def __init__(self, root: str | os.PathLike, image_size: int = 128, categories: list[str] | None = None,
                 skip_bad: bool = False, points: int = 16384, validate: bool | None = None) -> None:
        """Opening checks that every record's files exist; ``validate`` (default: ``skip_bad``) also verifies the
        image/mask and parses the model, so ``skip_bad`` drops corrupt records with a warning."""
        self.root = Path(root)
        index = self.root / "pix3d.json"
        try:
            records = json.loads(index.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DatasetError(f"cannot read {index}: {exc}") from exc
        if categories:
            records = [r for r in records if r.get("category") in categories]
        self.image_size, self.points = image_size, points
        if not isinstance(records, list):
            raise DatasetError(f"{index}: expected a JSON list of records")
        full = skip_bad if validate is None else validate
        self.records = filter_readable(records, self._validate if full else self._check, skip_bad)
        self.categories = sorted({r.get("category", "unknown") for r in self.records})

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

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> dict:
        """``images`` (1,3,S,S), ``masks`` (1,1,S,S), ``cameras`` [1], ``voxels32`` (32,32,32), ``points`` (N,3) of the
        normalised model, ``view_ids``, ``category``, ``category_index``, ``shape_id`` (image file stem)."""
        from lift3d.geometry.normalize import normalization_transform
        from lift3d.geometry.sampling import sample_surface
        from lift3d.geometry.voxels import mesh_to_voxels
        rec = self.records[i]
        img, m, _ = read_view(self.root / rec["img"], self.root / rec["mask"], self.image_size)
        mesh = self._mesh(rec)
        centre, scale = normalization_transform(np.asarray(mesh.vertices))
        mesh.vertices = (np.asarray(mesh.vertices) - centre) * scale
        cam = pix3d_camera(rec, centre, scale)
        pts, _ = sample_surface(mesh, self.points, seed=i)
        item = sample_dict([img], [m], rec.get("category", "unknown"), Path(rec["img"]).stem, [cam],
                           mesh_to_voxels(mesh, 32), pts)
        item["view_ids"] = np.zeros(1, np.int64)
        item["category_index"] = self.categories.index(item["category"])
        return item
