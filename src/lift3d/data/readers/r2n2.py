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

from lift3d.data.readers import DATASETS
from lift3d.data.readers.base import DatasetBase, check_split, hash_split, stable_seed
from lift3d.data.readers.common import camera_in_frame, filter_readable, read_rgba, verify_image
from lift3d.data.readers.targets import VOXEL_TARGETS, voxel_targets
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


@DATASETS.register("r2n2")
class R2N2Dataset(DatasetBase):
    """Items of a ShapeNet-R2N2 folder: renders, their cameras, ``voxels32`` (exact) and targets derived from the
    voxels (``points`` + ``normals``, ``occupancy``; see :mod:`lift3d.data.readers.targets`).

    Args:
        root: folder holding ``ShapeNetRendering`` and ``ShapeNetVox32``.
        split: ``train`` / ``val`` / ``test`` / ``all``; from ``split_file`` when given (R2N2-style
            ``{synset: {"train": [ids], "test": [ids]}}``, Pix2Vox's ``ShapeNet.json`` or PyTorch3D's), else 80/10/10
            by a stable hash of ``synset/model`` salted with ``split_seed``.
        views, targets, image_size, augment, seed, cache: as :class:`lift3d.data.dataset.ShapeDataset`; views are
            drawn from ``view_ids`` (default: every line of a model's ``rendering_metadata.txt``, 24 in the release).
        categories: restrict to these synset ids or category names.
        points, occ_samples: sizes ``P`` and ``N`` of the derived ``points`` and occupancy samples.
        camera_frame: ``"voxels"`` (canonical cube of ``voxels32``) or ``"model"`` (ShapeNet coordinates).
        use_file_fov: use the metadata's FOV column instead of Blender's default lens (see the module docstring).
        skip_bad: drop models with missing/corrupt files (with a warning) instead of raising
            :class:`DatasetError`; their files are then checked when the dataset is opened. Otherwise opening checks
            that the metadata, the binvox file and the first ``views`` renders exist.
    """

    TARGET_SOURCES = VOXEL_TARGETS

    def __init__(self, root: str | os.PathLike, split: str = "train", views: int = 1,
                 targets: tuple[str, ...] = ("voxels32",), image_size: int = 128, augment: bool = False,
                 seed: int = 0, categories: list[str] | None = None, cache: bool = False,
                 split_file: str | os.PathLike | None = None, split_seed: int = 0, skip_bad: bool = False,
                 view_ids: list[int] | None = None, points: int = 16384, occ_samples: int = 16384,
                 camera_frame: str = "voxels", use_file_fov: bool = False) -> None:
        root = Path(root)
        self.renders, self.vox = root / "ShapeNetRendering", root / "ShapeNetVox32"
        if not self.detect(root):
            raise DatasetError(f"{root} is not an R2N2 folder (needs ShapeNetRendering/ and ShapeNetVox32/)")
        if camera_frame not in ("voxels", "model"):
            raise InputError(f"camera_frame must be 'voxels' or 'model', got {camera_frame!r}")
        check_split(split)
        self.camera_frame, self.use_file_fov = camera_frame, use_file_fov
        self.points, self.occ_samples = int(points), int(occ_samples)
        synsets = sorted(d.name for d in self.renders.iterdir() if d.is_dir())
        self.categories = sorted({SYNSETS.get(s, s) for s in synsets})
        want = None if not categories else {c if c in SYNSETS else _synset_of(c) for c in categories}
        models = [(syn, m.name) for syn in synsets if want is None or syn in want
                  for m in sorted((self.renders / syn).iterdir()) if m.is_dir()]
        if not models:
            raise DatasetError(f"no models under {self.renders}" + (f" for {sorted(want)}" if want else ""))
        self.pool = list(view_ids) if view_ids is not None else list(range(self._count_views(models, skip_bad)))
        self._setup(root, split, views, targets, image_size, augment, seed, cache, len(self.pool))
        models = _select_split(models, split, split_file, split_seed)
        self.models = filter_readable(models, self._validate if skip_bad else self._check, skip_bad)

    @staticmethod
    def detect(root: Path) -> bool:
        """The R2N2 layout has ``ShapeNetRendering/`` and ``ShapeNetVox32/``."""
        return (root / "ShapeNetRendering").is_dir() and (root / "ShapeNetVox32").is_dir()

    def _count_views(self, models: list[tuple[str, str]], skip_bad: bool) -> int:
        """Views per model: the lines of the first readable ``rendering_metadata.txt``."""
        for m in models:
            meta = self._paths(m)[0]
            try:
                return len(read_metadata(meta))
            except DatasetError:
                if not skip_bad and meta.is_file():
                    raise
        raise DatasetError(f"no readable rendering_metadata.txt under {self.renders}")

    def _paths(self, m: tuple[str, str]) -> tuple[Path, Path]:
        """``(rendering_metadata.txt, model.binvox)`` of model ``m`` = ``(synset, model_id)``."""
        return self.renders / m[0] / m[1] / "rendering" / "rendering_metadata.txt", \
            self.vox / m[0] / m[1] / "model.binvox"

    def _png(self, m: tuple[str, str], v: int) -> Path:
        return self.renders / m[0] / m[1] / "rendering" / f"{v:02d}.png"

    def _check(self, m) -> None:
        for p in (*self._paths(m), *(self._png(m, v) for v in self.pool[:self.num_views])):
            if not p.is_file():
                raise DatasetError(f"missing file {p}")

    def _validate(self, m) -> None:
        """Existence plus content: metadata parses with enough lines, binvox decodes, every render verifies."""
        self._check(m)
        meta, vox = self._paths(m)
        if len(read_metadata(meta)) <= max(self.pool):
            raise DatasetError(f"{meta} has fewer lines than the views used ({max(self.pool) + 1})")
        self._voxels(vox)
        for v in self.pool:
            verify_image(self._png(m, v))

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

    def _grid(self, i: int):
        """Model ``i``'s :class:`lift3d.io.voxels.VoxelGrid`."""
        return self._memo(("grid", i), lambda: self._voxels(self._paths(self.models[i])[1]))

    def __len__(self) -> int:
        return len(self.models)

    def describe(self, i: int) -> tuple[str, str]:
        syn, mid = self.models[i]
        return SYNSETS.get(syn, syn), mid

    def view_ids(self, i: int) -> np.ndarray:
        """Render numbers ``(V,)`` of item ``i``: the first V of ``view_ids`` for evaluation, a seeded subset with
        ``augment``."""
        return np.asarray(self.pool, np.int64)[super().view_ids(i)]

    def read_view(self, i: int, v: int) -> tuple[np.ndarray, np.ndarray]:
        return self._cached(("view", i, v), lambda: read_rgba(self._png(self.models[i], v)))

    def cameras(self, i: int, ids=None) -> list[Camera]:
        """Cameras of renders ``ids`` (default: all of ``view_ids``) of model ``i`` in ``camera_frame``."""
        ids = self.pool if ids is None else [int(v) for v in ids]
        meta = self._paths(self.models[i])[0]
        cams = self._cached(("meta", i), lambda: read_metadata(meta, use_file_fov=self.use_file_fov))
        if ids and len(cams) <= max(ids):
            raise DatasetError(f"{meta} has {len(cams)} views, view {max(ids)} was requested")
        cams = [cams[v] for v in ids]
        if self.camera_frame == "voxels":
            centre, scale = voxel_frame(self._grid(i))
            cams = [camera_in_frame(c, centre, scale) for c in cams]
        return cams

    def extras(self, i: int, ids: np.ndarray) -> dict:
        """``cameras``: ``Camera.to_dict()`` of each view used."""
        return {"cameras": [c.to_dict() for c in self.cameras(i, ids)]}

    def target_arrays(self, i: int) -> dict[str, np.ndarray]:
        key = "/".join(self.models[i])
        return self._cached(("targets", i), lambda: voxel_targets(
            self._grid(i).occupancy.astype(bool), self.targets, self.points, self.occ_samples, stable_seed(key)))


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


def _select_split(models: list[tuple[str, str]], split: str, split_file, split_seed: int) -> list[tuple[str, str]]:
    if split == "all":
        return models
    if split_file is not None:
        try:
            keep = split_members(json.loads(Path(split_file).read_text()), split)
        except (OSError, json.JSONDecodeError, AttributeError, TypeError, KeyError) as exc:
            raise DatasetError(f"cannot read split file {split_file}: {exc.__class__.__name__}: {exc}") from exc
        return [m for m in models if m in keep]
    return [m for m in models if hash_split("/".join(m), salt=split_seed) == split]
