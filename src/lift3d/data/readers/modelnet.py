"""ModelNet10/40 (Wu et al. 2015): ``ROOT/<class>/{train,test}/<class>_NNNN.off`` meshes, +Z up.

ModelNet ships no images, so :class:`ModelNetDataset` returns the 3D ground truth (32^3 voxels, surface
points) in lift3d's canonical frame (+Z up turned to +Y up), and :func:`to_lift3d_dataset` renders the meshes
into a full lift3d dataset (views, cameras, ground truth) with the same renderer as the procedural data.
Many ModelNet OFF files glue the header to the counts (``OFF1234 5678 0``); :func:`read_off` handles that.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import trimesh

from lift3d.data.readers.common import filter_readable
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


class ModelNetDataset:
    """3D ground truth of a ModelNet folder: ``voxels32`` (32,32,32), ``points`` (N,3), ``category``, ``shape_id``."""

    def __init__(self, root: str | os.PathLike, split: str = "train", categories: list[str] | None = None,
                 points: int = 16384, skip_bad: bool = False, validate: bool | None = None) -> None:
        """``split``: ``train``/``test``/``all``. Opening checks each file's header; ``validate`` (default: the value
        of ``skip_bad``) parses every mesh up front, so that with ``skip_bad`` corrupt files are dropped with a
        warning instead of failing later in ``__getitem__`` with a :class:`DatasetError` naming the file."""
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"ModelNet folder not found: {self.root}")
        splits = ("train", "test") if split == "all" else (split,)
        files = sorted(p for s in splits for p in self.root.glob(f"*/{s}/*.off")
                       if not categories or p.parts[-3] in categories)
        if not files:
            raise DatasetError(f"no ModelNet .off files under {self.root}/<class>/{split}/")
        self.points = points
        full = skip_bad if validate is None else validate
        self.files = filter_readable(files, read_off if full else check_off_header, skip_bad)
        self.categories = sorted({p.parts[-3] for p in self.files})

    def __len__(self) -> int:
        return len(self.files)

    def mesh(self, i: int) -> trimesh.Trimesh:
        """The i-th mesh in the canonical frame (+Y up, centred, unit size)."""
        from lift3d.errors import InputError
        from lift3d.geometry.normalize import normalize_mesh

        try:
            return normalize_mesh(read_off(self.files[i]), up="+z")
        except InputError as exc:  # degenerate geometry (zero size, NaN)
            raise DatasetError(f"bad mesh {self.files[i]}: {exc}") from exc

    def __getitem__(self, i: int) -> dict:
        """``voxels32`` float32 (32,32,32), ``points`` float32 (N,3), ``category``, ``category_index``, ``shape_id``."""
        from lift3d.geometry.sampling import sample_surface
        from lift3d.geometry.voxels import mesh_to_voxels

        mesh = self.mesh(i)
        pts, _ = sample_surface(mesh, self.points, seed=i)
        cat = self.files[i].parts[-3]
        return {"voxels32": mesh_to_voxels(mesh, 32).astype(np.float32), "points": np.asarray(pts, np.float32),
                "category": cat, "category_index": self.categories.index(cat), "shape_id": self.files[i].stem}


def to_lift3d_dataset(root: str | os.PathLike, out: str | os.PathLike, views: int = 12, image_size: int = 128,
                      seed: int = 0, workers: int = 2, quiet: bool = False, skip_bad: bool = False) -> dict:
    """Render a ModelNet folder into a lift3d dataset (categories = ModelNet classes; +Z up handled)."""
    from lift3d.data.generate import generate_dataset

    return generate_dataset(out, views=views, image_size=image_size, seed=seed, workers=workers, quiet=quiet,
                            skip_bad=skip_bad, mesh_source=root, up="+z")
