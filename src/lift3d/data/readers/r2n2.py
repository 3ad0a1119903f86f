"""ShapeNet in the 3D-R2N2 layout (Choy et al. 2016)::

    ROOT/ShapeNetRendering/<synset>/<model>/rendering/00.png .. 23.png      137x137 RGBA renders
    ROOT/ShapeNetRendering/<synset>/<model>/rendering/rendering_metadata.txt one line per view:
                                                     azimuth elevation in_plane_rotation distance_ratio fov
    ROOT/ShapeNetVox32/<synset>/<model>/model.binvox                          32^3 solid voxels

Camera convention (derived from R2N2's own Blender script ``lib/blender_renderer.py``, and the same as the
matrices Mesh R-CNN / PyTorch3D's R2N2 loader use to project ShapeNet models onto these renders):

* the camera centre, in ShapeNet model coordinates (+Y up), is
  ``d * (cos(el) cos(az), sin(el), cos(el) sin(az))`` with ``d = distance_ratio * 1.75``; it looks at the
  origin with +Y up. (Blender: camera at ``(d, 0, 0)`` under a parent rotated by Euler XYZ
  ``(-in_plane, -el, -az)``; the OBJ importer maps ShapeNet's +Y up to Blender's +Z up.)
* ``in_plane_rotation`` (always 0 in the released data) rolls the camera: ``R = Rz(-in_plane) @ R0``.
* intrinsics: Blender's default 35 mm lens on a 32 mm sensor, ``f = 137 * 35 / 32 = 149.84`` px (horizontal
  FOV 49.13 deg), principal point at the image centre. The ``fov`` column (always 25) is written by the
  script but never applied to the Blender camera, so it is ignored unless ``use_file_fov=True``.

Voxels: ``model.binvox`` was made by ``binvox -cb -dc -aw -pb`` in the model's own axes, and binvox's file order
(x, then z, then y fastest) is decoded by :func:`lift3d.io.voxels.read_binvox` into ``grid[x, y, z]``, which is
lift3d's grid convention; ShapeNet is +Y up like lift3d's canonical frame, so the grid is returned unchanged
(no axis swap, no flip). ShapeNet's front direction is kept (lift3d's procedural shapes face +Z; ShapeNet's
front is not rotated to match). With ``camera_frame="voxels"`` (default) the cameras are moved into the voxel
grid's frame using the binvox header (``translate``, ``scale``: voxel centre ``(i + 0.5) / 32`` lies at
``translate + scale * (i + 0.5) / 32`` in model coordinates), so voxels, cameras and images agree in
lift3d's canonical cube ``[-0.5, 0.5]^3``; ``camera_frame="model"`` returns them in ShapeNet coordinates.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from lift3d.data.readers.common import camera_in_frame, filter_readable, read_view, sample_dict, verify_image
from lift3d.errors import DatasetError, FormatError, InputError
from lift3d.geometry.cameras import Camera, intrinsics, look_at

SYNSETS = {"02691156": "airplane", "02828884": "bench", "02933112": "cabinet", "02958343": "car",
           "03001627": "chair", "03211117": "display", "03636649": "lamp", "03691459": "speaker",
           "04090263": "rifle", "04256520": "sofa", "04379243": "table", "04401088": "telephone",
           "04530566": "watercraft"}
MAX_CAMERA_DISTANCE = 1.75
IMAGE_SIZE = 137
BLENDER_LENS_MM, BLENDER_SENSOR_MM = 35.0, 32.0
BLENDER_FOV_DEG = float(np.degrees(2.0 * np.arctan(BLENDER_SENSOR_MM / 2.0 / BLENDER_LENS_MM)))  # 49.134


def r2n2_camera(azimuth: float, elevation: float, distance_ratio: float, fov: float | None = None,
                size: int = IMAGE_SIZE, in_plane: float = 0.0) -> Camera:
    """OpenCV :class:`Camera` of one R2N2 metadata line, in ShapeNet model coordinates.

    ``fov`` (degrees, horizontal) overrides the Blender default lens (see the module docstring: the
    metadata's 25 was never applied by the renderer, so leave it ``None`` for the released renders).
    """
    az, el = np.radians(azimuth), np.radians(elevation)
    d = distance_ratio * MAX_CAMERA_DISTANCE
    eye = d * np.array([np.cos(el) * np.cos(az), np.sin(el), np.cos(el) * np.sin(az)])
    R, _ = look_at(eye)
    if in_plane:
        c, s = np.cos(np.radians(in_plane)), np.sin(np.radians(in_plane))
        R = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]]) @ R  # Rz(-in_plane): roll about the optical axis
    if fov is None:
        f = size * BLENDER_LENS_MM / BLENDER_SENSOR_MM
        K = np.array([[f, 0.0, size / 2.0], [0.0, f, size / 2.0], [0.0, 0.0, 1.0]])
    else:
        K = intrinsics(size, size, fov)
    return Camera(K, R, -R @ eye, size, size)


def read_metadata(path: str | os.PathLike, size: int = IMAGE_SIZE, use_file_fov: bool = False) -> list[Camera]:
    """Parse ``rendering_metadata.txt`` -> one camera per line (model coordinates)."""
    path = Path(path)
    try:
        rows = [list(map(float, line.split())) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DatasetError(f"cannot read R2N2 metadata {path}: {exc}") from exc
    if not rows or any(len(r) < 5 for r in rows):
        raise DatasetError(f"{path}: expected 5 numbers per line (azimuth elevation in-plane distance fov)")
    return [r2n2_camera(r[0], r[1], r[3], r[4] if use_file_fov else None, size, in_plane=r[2]) for r in rows]


def voxel_frame(grid) -> tuple[np.ndarray, float]:
    """``(centre (3,), scale)`` taking model coordinates to the grid's canonical cube: ``p = (X - centre) * scale``.

    From the binvox header of a :class:`lift3d.io.voxels.VoxelGrid` (``D`` voxels span ``translate + [0, s]^3``).
    """
    s = float(grid.scale)
    if s <= 0:
        raise FormatError(f"binvox scale must be positive, got {s}")
    return np.asarray(grid.translate, np.float64) + 0.5 * s, 1.0 / s


class R2N2Dataset:
    """Samples from a ShapeNet-R2N2 folder: ``views`` renders per model, cameras, ``voxels32``.

    Args:
        root: folder holding ``ShapeNetRendering`` and ``ShapeNetVox32``.
        split: ``train`` / ``val`` / ``test`` / ``all``; from ``split_file`` (R2N2-style JSON
            ``{synset: {"train": [ids], "test": [ids]}}``) when given, else a seeded 80/10/10 split by model.
        views: number of views per sample (the first ones, or ``view_ids``).
        synsets: restrict to these synset ids or category names.
        camera_frame: ``"voxels"`` (canonical cube of ``voxels32``) or ``"model"`` (ShapeNet coordinates).
        skip_bad: drop models with missing/corrupt files (with a warning) instead of raising
            :class:`DatasetError`; their files are then checked when the dataset is opened.
    """

    def __init__(self, root: str | os.PathLike, split: str = "all", views: int = 1, image_size: int = 128,
                 synsets: list[str] | None = None, split_file: str | os.PathLike | None = None, seed: int = 0,
                 skip_bad: bool = False, view_ids: list[int] | None = None, camera_frame: str = "voxels",
                 use_file_fov: bool = False) -> None:
        self.root = Path(root)
        self.renders, self.vox = self.root / "ShapeNetRendering", self.root / "ShapeNetVox32"
        if not self.renders.is_dir() or not self.vox.is_dir():
            raise DatasetError(f"{self.root} is not an R2N2 folder (needs ShapeNetRendering/ and ShapeNetVox32/)")
        if camera_frame not in ("voxels", "model"):
            raise InputError(f"camera_frame must be 'voxels' or 'model', got {camera_frame!r}")
        self.view_ids = list(view_ids) if view_ids is not None else list(range(views))
        self.image_size, self.camera_frame, self.use_file_fov = image_size, camera_frame, use_file_fov
        want = None if not synsets else {s if s in SYNSETS else _synset_of(s) for s in synsets}
        models = [(syn.name, m.name) for syn in sorted(self.renders.iterdir()) if syn.is_dir()
                  and (want is None or syn.name in want) for m in sorted(syn.iterdir()) if m.is_dir()]
        models = _select_split(models, split, split_file, seed)
        self.models = filter_readable(models, self._validate if skip_bad else self._check, skip_bad)
        self.categories = sorted({SYNSETS.get(s, s) for s, _ in self.models})

    def _paths(self, m: tuple[str, str]) -> tuple[Path, Path, list[Path]]:
        rdir = self.renders / m[0] / m[1] / "rendering"
        return rdir / "rendering_metadata.txt", self.vox / m[0] / m[1] / "model.binvox", \
            [rdir / f"{v:02d}.png" for v in self.view_ids]

    def _check(self, m) -> None:
        meta, vox, pngs = self._paths(m)
        for p in (meta, vox, *pngs):
            if not p.is_file():
                raise DatasetError(f"missing file {p}")

    def _validate(self, m) -> None:
        """Existence plus content: metadata parses with enough lines, binvox decodes, images verify."""
        self._check(m)
        meta, vox, pngs = self._paths(m)
        if len(read_metadata(meta)) <= max(self.view_ids):
            raise DatasetError(f"{meta} has fewer lines than the views requested ({max(self.view_ids) + 1})")
        self._voxels(vox)
        for p in pngs:
            verify_image(p)

    @staticmethod
    def _voxels(path: Path):
        from lift3d.io.voxels import load_voxels

        try:
            grid = load_voxels(path)
        except InputError as exc:  # FormatError is an InputError
            raise DatasetError(f"bad voxel file {path}: {exc}") from exc
        if grid.occupancy.shape != (32, 32, 32):
            raise DatasetError(f"{path}: expected a 32^3 grid, got {grid.occupancy.shape}")
        return grid

    def __len__(self) -> int:
        return len(self.models)

    def cameras(self, i: int, grid=None) -> list[Camera]:
        """Cameras of the selected views of model ``i`` in ``camera_frame`` (``grid``: its already-read VoxelGrid)."""
        meta, vox, _ = self._paths(self.models[i])
        cams = read_metadata(meta, use_file_fov=self.use_file_fov)
        if len(cams) <= max(self.view_ids):
            raise DatasetError(f"{meta} has {len(cams)} views, view {max(self.view_ids)} was requested")
        cams = [cams[v] for v in self.view_ids]
        if self.camera_frame == "voxels":
            centre, scale = voxel_frame(self._voxels(vox) if grid is None else grid)
            cams = [camera_in_frame(c, centre, scale) for c in cams]
        return cams

    def __getitem__(self, i: int) -> dict:
        """Sample dict: ``images`` (V,3,S,S), ``masks`` (V,1,S,S), ``voxels32`` (32,32,32), ``cameras``,
        ``view_ids`` (V,), ``category``, ``category_index``, ``shape_id``."""
        syn, mid = self.models[i]
        _, vox, pngs = self._paths(self.models[i])
        imgs, masks = zip(*[read_view(p, size=self.image_size)[:2] for p in pngs], strict=True)
        grid = self._voxels(vox)
        item = sample_dict(list(imgs), list(masks), SYNSETS.get(syn, syn), mid, self.cameras(i, grid), grid.occupancy)
        item["view_ids"] = np.asarray(self.view_ids, np.int64)
        item["category_index"] = self.categories.index(item["category"])
        return item


def _synset_of(name: str) -> str:
    for k, v in SYNSETS.items():
        if v == name:
            return k
    raise DatasetError(f"unknown ShapeNet category {name!r}; known: {', '.join(SYNSETS.values())}")


def split_members(spec, split: str) -> set[tuple[str, str]]:
    """``{(synset, model_id)}`` of ``split`` in any of the common split files:

    * ``{synset: {"train": [ids], "test": [ids]}}``;
    * Pix2Vox's ``ShapeNet.json``: ``[{"taxonomy_id": synset, "train": [ids], "val": [ids], "test": [ids]}]``;
    * PyTorch3D's R2N2 splits: ``{"train": {synset: {model_id: [view ids]}}}`` (or lists of ids).
    """
    if isinstance(spec, list):
        return {(e["taxonomy_id"], mid) for e in spec for mid in e.get(split, [])}
    if split in spec and all(isinstance(v, (dict, list)) for v in spec[split].values()):
        return {(syn, mid) for syn, ids in spec[split].items() for mid in ids}
    return {(syn, mid) for syn, parts in spec.items() if isinstance(parts, dict) for mid in parts.get(split, [])}


def _select_split(models: list[tuple[str, str]], split: str, split_file, seed: int) -> list[tuple[str, str]]:
    if split == "all":
        return models
    if split not in ("train", "val", "test"):
        raise InputError(f"split must be train, val, test or all, got {split!r}")
    if split_file is not None:
        try:
            keep = split_members(json.loads(Path(split_file).read_text()), split)
        except (OSError, json.JSONDecodeError, AttributeError, TypeError, KeyError) as exc:
            raise DatasetError(f"cannot read split file {split_file}: {exc.__class__.__name__}: {exc}") from exc
        return [m for m in models if m in keep]
    order = np.random.default_rng(seed).permutation(len(models))
    n_train, n_val = int(0.8 * len(models)), int(0.1 * len(models))
    chosen = {"train": order[:n_train], "val": order[n_train:n_train + n_val], "test": order[n_train + n_val:]}[split]
    return [models[j] for j in sorted(chosen)]
