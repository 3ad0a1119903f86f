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

from lift3d.data.readers.common import filter_readable, read_view, sample_dict
from lift3d.errors import DatasetError, InputError
from lift3d.geometry.cameras import Camera

FLIP = np.diag([-1.0, -1.0, 1.0])  # Pix3D camera (x left, y up) -> OpenCV camera (x right, y down)


def pix3d_camera(rec: dict, centre: np.ndarray | None = None, scale: float = 1.0) -> Camera:
    """OpenCV :class:`Camera` of a Pix3D record, for model coordinates normalised as ``(X - centre) * scale``."""
    w, h = (int(v) for v in rec["img_size"])
    f = float(rec["focal_length"]) / 32.0 * w
    K = np.array([[f, 0.0, w / 2.0], [0.0, f, h / 2.0], [0.0, 0.0, 1.0]])
    R = FLIP @ np.asarray(rec["rot_mat"], dtype=np.float64)
    t = FLIP @ np.asarray(rec["trans_mat"], dtype=np.float64)
    if centre is not None:  # X = Xn / scale + centre  =>  Xc = R Xn / scale + (R centre + t); rescale by `scale`
        t = scale * (R @ centre + t)
    return Camera(K, R, t, w, h)


class Pix3DDataset:
    """Samples of a Pix3D folder: the photo (masked by Pix3D's mask), its camera, 32^3 voxels and surface
    points of the normalised CAD model."""

    def __init__(self, root: str | os.PathLike, image_size: int = 128, categories: list[str] | None = None,
                 skip_bad: bool = False, points: int = 16384) -> None:
        self.root = Path(root)
        index = self.root / "pix3d.json"
        try:
            records = json.loads(index.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DatasetError(f"cannot read {index}: {exc}") from exc
        if categories:
            records = [r for r in records if r.get("category") in categories]
        self.image_size, self.points = image_size, points
        self.records = filter_readable(records, self._check, skip_bad)

    def _check(self, rec: dict) -> None:
        for key in ("img", "mask", "model"):
            if key not in rec:
                raise DatasetError(f"pix3d.json record without '{key}': {rec.get('img', rec)}")
            if not (self.root / rec[key]).is_file():
                raise DatasetError(f"missing file {self.root / rec[key]}")

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> dict:
        from lift3d.geometry.normalize import normalization_transform
        from lift3d.geometry.sampling import sample_surface
        from lift3d.geometry.voxels import mesh_to_voxels
        from lift3d.io.meshes import load_mesh

        rec = self.records[i]
        img, m, _ = read_view(self.root / rec["img"], self.root / rec["mask"], self.image_size)
        try:
            mesh = load_mesh(self.root / rec["model"])
        except InputError as exc:
            raise DatasetError(str(exc)) from exc
        centre, scale = normalization_transform(np.asarray(mesh.vertices))
        mesh.vertices = (np.asarray(mesh.vertices) - centre) * scale
        cam = pix3d_camera(rec, centre, scale)
        pts, _ = sample_surface(mesh, self.points, seed=i)
        return sample_dict([img], [m], rec.get("category", "unknown"), Path(rec["img"]).stem, [cam],
                           mesh_to_voxels(mesh, 32), pts)
