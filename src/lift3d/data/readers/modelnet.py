"""ModelNet10/40 (Wu et al. 2015): ``ROOT/<class>/{train,test}/<class>_NNNN.off`` meshes, +Z up.

ModelNet ships no images, so :class:`ModelNetDataset` returns the 3D ground truth (voxels, surface points,
occupancy) in lift3d's canonical frame (+Z up turned to +Y up) with zero views, and :func:`to_lift3d_dataset`
(``lift3d data generate --meshes ROOT --up +z``) renders the meshes into a full lift3d dataset (views, cameras,
ground truth) with the same renderer as the procedural data.
Many ModelNet OFF files glue the header to the counts (``OFF1234 5678 0``); :func:`read_off` handles that.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import trimesh

from lift3d.data.readers import DATASETS
from lift3d.data.readers.base import DatasetBase, hash_split, stable_seed
from lift3d.data.readers.common import filter_readable
from lift3d.data.readers.targets import MESH_TARGETS, mesh_targets
from lift3d.errors import DatasetError


def read_off(path: str | os.PathLike) -> trimesh.Trimesh:
    """Parse an OFF file (``(V, 3)`` vertices, polygons fan-triangulated to ``(F, 3)`` int64 faces), including
    ModelNet's broken ``OFF<nv> <nf> <ne>`` first line; :class:`DatasetError` naming the file when malformed.

    Hand-written (not trimesh's loader) because trimesh rejects the glued header that many ModelNet files have.
    """
    p = Path(path)
    try:
        lines = [ln.split("#")[0].strip() for ln in p.read_text(errors="replace").splitlines()]
        lines = [ln for ln in lines if ln]
        if not lines or not lines[0].startswith("OFF"):
            raise ValueError("no OFF header")
        rest = lines[0][3:].strip()
        counts_line, body = (rest, lines[1:]) if rest else (lines[1], lines[2:])
        nv, nf = (int(x) for x in counts_line.split()[:2])
        if nv < 3 or nf < 1 or len(body) < nv + nf:
            raise ValueError(f"header announces {nv} vertices and {nf} faces, file has {len(body)} data lines")
        verts = np.array([ln.split()[:3] for ln in body[:nv]], dtype=np.float64)
        faces = _triangulate([ln.split() for ln in body[nv:nv + nf]])
        if verts.shape != (nv, 3) or not np.isfinite(verts).all():
            raise ValueError("vertex lines need 3 finite coordinates")
        if len(faces) == 0 or faces.min() < 0 or faces.max() >= nv:
            raise ValueError("face indices out of range")
    except (OSError, ValueError, IndexError) as exc:
        raise DatasetError(f"bad OFF file {p}: {exc}") from exc
    return trimesh.Trimesh(verts, faces, process=True)


def _triangulate(rows: list[list[str]]) -> np.ndarray:
    """OFF face rows ``k i1 .. ik [colour]`` -> triangles ``(F, 3)``; polygons become fans."""
    if all(len(r) >= 4 and r[0] == "3" for r in rows):  # the common all-triangle case, vectorised
        return np.array([r[1:4] for r in rows], dtype=np.int64)
    tris = []
    for r in rows:
        k = int(r[0])
        poly = [int(x) for x in r[1:k + 1]]
        if k < 3 or len(poly) != k:
            raise ValueError(f"bad face line {' '.join(r)!r}")
        tris += [[poly[0], poly[j], poly[j + 1]] for j in range(1, k - 1)]
    return np.asarray(tris, np.int64)


def check_off_header(path: str | os.PathLike) -> None:
    """Cheap check (first bytes only) that ``path`` starts like an OFF file; :class:`DatasetError` otherwise."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            head = f.read(64)
    except OSError as exc:
        raise DatasetError(f"cannot read {p}: {exc}") from exc
    if not head.lstrip().startswith(b"OFF"):
        raise DatasetError(f"bad OFF file {p}: no OFF header")


@DATASETS.register("modelnet")
class ModelNetDataset(DatasetBase):
    """3D ground truth of a ModelNet folder, derived from its meshes: ``voxels32``/``voxels64``, ``points`` +
    ``normals``, ``occupancy``. ModelNet has no images: items carry zero views (``images`` ``(0, 3, S, S)``), so it
    trains shape priors, not image-to-3D models; ``lift3d data generate --meshes ROOT --up +z`` (or
    :func:`to_lift3d_dataset`) renders it into a trainable lift3d dataset.

    Args:
        root: folder of ``<class>/{train,test}/*.off``.
        split: ``test`` is ModelNet's test folder; ``train`` and ``val`` split its train folder 90/10 by a stable
            hash of the shape id salted with ``split_seed``; ``all`` is both folders.
        views: must be 0 (no images). targets, image_size, augment, seed, cache: as
            :class:`lift3d.data.dataset.ShapeDataset`.
        categories: keep only these classes.
        points, occ_samples: sizes ``P`` and ``N`` of the ``points`` and occupancy samples.
        skip_bad, validate: opening checks each file's header; ``validate`` (default: ``skip_bad``) parses every mesh
            up front, so that with ``skip_bad`` corrupt files are dropped with a warning instead of failing later in
            ``__getitem__`` with a :class:`DatasetError` naming the file.
    """

    TARGET_SOURCES = MESH_TARGETS
    RENDER_HINT = "render it into a trainable dataset with `lift3d data generate --meshes {root} --up +z --out DIR`"
    VAL_FRACTION = 0.1

    def __init__(self, root: str | os.PathLike, split: str = "train", views: int = 0,
                 targets: tuple[str, ...] = ("voxels32",), image_size: int = 128, augment: bool = False,
                 seed: int = 0, categories: list[str] | None = None, cache: bool = False, split_seed: int = 0,
                 points: int = 16384, occ_samples: int = 16384, skip_bad: bool = False,
                 validate: bool | None = None) -> None:
        root = Path(root)
        if not root.is_dir():
            raise DatasetError(f"ModelNet folder not found: {root}")
        self._setup(root, split, views, targets, image_size, augment, seed, cache, total_views=0)
        every = sorted(root.glob("*/train/*.off")) + sorted(root.glob("*/test/*.off"))
        self.categories = sorted({p.parts[-3] for p in every})
        folders = ("train", "test") if split == "all" else ("test",) if split == "test" else ("train",)
        files = sorted(p for p in every if p.parts[-2] in folders and (not categories or p.parts[-3] in categories))
        if not files:
            raise DatasetError(f"no ModelNet .off files under {root}/<class>/{'|'.join(folders)}/")
        if split in ("train", "val"):
            fractions = (1.0 - self.VAL_FRACTION, self.VAL_FRACTION, 0.0)
            files = [p for p in files if hash_split(p.stem, fractions, salt=split_seed) == split]
        self.points, self.occ_samples = int(points), int(occ_samples)
        full = skip_bad if validate is None else validate
        self.files = filter_readable(files, read_off if full else check_off_header, skip_bad)

    @staticmethod
    def detect(root: Path) -> bool:
        """The ModelNet layout has ``<class>/train/*.off`` or ``<class>/test/*.off``."""
        return any(root.glob("*/train/*.off")) or any(root.glob("*/test/*.off"))

    def __len__(self) -> int:
        return len(self.files)

    def describe(self, i: int) -> tuple[str, str]:
        return self.files[i].parts[-3], self.files[i].stem

    def mesh(self, i: int) -> trimesh.Trimesh:
        """The i-th mesh in the canonical frame (+Y up, centred, unit size)."""
        from lift3d.errors import InputError
        from lift3d.geometry.normalize import normalize_mesh

        try:
            return normalize_mesh(read_off(self.files[i]), up="+z")
        except InputError as exc:  # degenerate geometry (zero size, NaN)
            raise DatasetError(f"bad mesh {self.files[i]}: {exc}") from exc

    def target_arrays(self, i: int) -> dict[str, np.ndarray]:
        def load():
            try:
                return mesh_targets(self.mesh(i), self.targets, self.points, self.occ_samples,
                                    stable_seed(self.files[i].stem))
            except DatasetError as exc:
                raise DatasetError(f"{self.files[i]}: {exc}") from exc

        return self._cached(("targets", i), load)


def to_lift3d_dataset(root: str | os.PathLike, out: str | os.PathLike, views: int = 12, image_size: int = 128,
                      seed: int = 0, workers: int = 2, quiet: bool = False, skip_bad: bool = False) -> dict:
    """Render a ModelNet folder into a lift3d dataset (categories = ModelNet classes; +Z up handled)."""
    from lift3d.data.generate import generate_dataset

    return generate_dataset(out, views=views, image_size=image_size, seed=seed, workers=workers, quiet=quiet,
                            skip_bad=skip_bad, mesh_source=root, up="+z")
