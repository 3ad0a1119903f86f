"""ShapeNet in the 3D-R2N2 layout (Choy et al. 2016)::

    ROOT/ShapeNetRendering/<synset>/<model>/rendering/00.png .. 23.png      137x137 RGBA renders
    ROOT/ShapeNetRendering/<synset>/<model>/rendering/rendering_metadata.txt one line per view:
                                                     azimuth elevation in_plane_rotation distance_ratio fov
    ROOT/ShapeNetVox32/<synset>/<model>/model.binvox                          32^3 solid voxels

Cameras (documented convention, as used by the R2N2 renderer): the camera sits at distance
``distance_ratio * 1.75`` from the origin, at ``azimuth`` degrees about +Y measured from +X towards -Z and
``elevation`` degrees above the XZ plane, looks at the origin with +Y up, horizontal FOV ``fov`` degrees
(25 in R2N2); the in-plane rotation is always 0 there and is ignored. ShapeNet models are +Y up like
lift3d's canonical frame, and binvox voxels are read into ``grid[x, y, z]`` unchanged. This reader is
tested against fixtures written in this layout; small axis-convention differences against the original
Blender renders cannot be checked here (no ShapeNet download), so check a contact sheet on real data.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from lift3d.data.readers.common import filter_readable, read_view, sample_dict
from lift3d.errors import DatasetError
from lift3d.geometry.cameras import Camera, intrinsics, look_at

SYNSETS = {"02691156": "airplane", "02828884": "bench", "02933112": "cabinet", "02958343": "car",
           "03001627": "chair", "03211117": "display", "03636649": "lamp", "03691459": "speaker",
           "04090263": "rifle", "04256520": "sofa", "04379243": "table", "04401088": "telephone",
           "04530566": "watercraft"}
MAX_CAMERA_DISTANCE = 1.75


def r2n2_camera(azimuth: float, elevation: float, distance_ratio: float, fov: float, size: int = 137) -> Camera:
    """The :class:`Camera` of one R2N2 metadata line (see the module docstring for the convention)."""
    az, el = np.radians(azimuth), np.radians(elevation)
    d = distance_ratio * MAX_CAMERA_DISTANCE
    eye = d * np.array([np.cos(el) * np.cos(az), np.sin(el), -np.cos(el) * np.sin(az)])
    R, t = look_at(eye)
    return Camera(intrinsics(size, size, fov), R, t, size, size)


def read_metadata(path: Path, size: int = 137) -> list[Camera]:
    """Parse ``rendering_metadata.txt`` -> one camera per line."""
    try:
        rows = [list(map(float, line.split())) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read R2N2 metadata {path}: {exc}") from exc
    if not rows or any(len(r) < 5 for r in rows):
        raise DatasetError(f"{path}: expected 5 numbers per line (azimuth elevation in-plane distance fov)")
    return [r2n2_camera(r[0], r[1], r[3], r[4], size) for r in rows]


class R2N2Dataset:
    """Samples from a ShapeNet-R2N2 folder: ``views`` renders per model, cameras, ``voxels32``.

    Args:
        root: folder holding ``ShapeNetRendering`` and ``ShapeNetVox32``.
        split: ``train`` / ``val`` / ``test`` / ``all``; from ``split_file`` (R2N2-style JSON
            ``{synset: {"train": [ids], "test": [ids]}}``) when given, else a seeded 80/10/10 split by model.
        synsets: restrict to these synset ids or category names.
    """

    def __init__(self, root: str | os.PathLike, split: str = "all", views: int = 1, image_size: int = 128,
                 synsets: list[str] | None = None, split_file: str | os.PathLike | None = None, seed: int = 0,
                 skip_bad: bool = False) -> None:
        self.root = Path(root)
        self.renders, self.vox = self.root / "ShapeNetRendering", self.root / "ShapeNetVox32"
        if not self.renders.is_dir() or not self.vox.is_dir():
            raise DatasetError(f"{self.root} is not an R2N2 folder (needs ShapeNetRendering/ and ShapeNetVox32/)")
        self.views, self.image_size = views, image_size
        want = None if not synsets else {s if s in SYNSETS else _synset_of(s) for s in synsets}
        models = [(syn.name, m.name) for syn in sorted(self.renders.iterdir()) if syn.is_dir()
                  and (want is None or syn.name in want) for m in sorted(syn.iterdir()) if m.is_dir()]
        models = _select_split(models, split, split_file, seed)
        self.models = filter_readable(models, self._check, skip_bad)

    def _check(self, m) -> None:
        syn, mid = m
        for p in (self.renders / syn / mid / "rendering" / "rendering_metadata.txt",
                  self.vox / syn / mid / "model.binvox"):
            if not p.is_file():
                raise DatasetError(f"missing file {p}")

    def __len__(self) -> int:
        return len(self.models)

    def __getitem__(self, i: int) -> dict:
        from lift3d.errors import FormatError
        from lift3d.io.voxels import load_voxels

        syn, mid = self.models[i]
        rdir = self.renders / syn / mid / "rendering"
        cams = read_metadata(rdir / "rendering_metadata.txt")[: self.views]
        imgs, masks = [], []
        for v in range(len(cams)):
            img, m, _ = read_view(rdir / f"{v:02d}.png", size=self.image_size)
            imgs.append(img)
            masks.append(m)
        try:
            vox = load_voxels(self.vox / syn / mid / "model.binvox").occupancy
        except FormatError as exc:
            raise DatasetError(str(exc)) from exc
        return sample_dict(imgs, masks, SYNSETS.get(syn, syn), mid, cams, vox)


def _synset_of(name: str) -> str:
    for k, v in SYNSETS.items():
        if v == name:
            return k
    raise DatasetError(f"unknown ShapeNet category {name!r}; known: {', '.join(SYNSETS.values())}")


def _select_split(models: list[tuple[str, str]], split: str, split_file, seed: int) -> list[tuple[str, str]]:
    if split == "all":
        return models
    if split_file is not None:
        try:
            spec = json.loads(Path(split_file).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DatasetError(f"cannot read split file {split_file}: {exc}") from exc
        keep = {(syn, mid) for syn, parts in spec.items() for mid in parts.get(split, [])}
        return [m for m in models if m in keep]
    order = np.random.default_rng(seed).permutation(len(models))
    n_train, n_val = int(0.8 * len(models)), int(0.1 * len(models))
    chosen = {"train": order[:n_train], "val": order[n_train:n_train + n_val], "test": order[n_train + n_val:]}[split]
    return [models[j] for j in sorted(chosen)]
