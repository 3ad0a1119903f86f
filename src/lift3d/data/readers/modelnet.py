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
    """Parse an OFF file, including ModelNet's broken ``OFF<nv> <nf> <ne>`` first line."""
    p = Path(path)
    try:
        tokens = p.read_text(errors="replace").split("\n")
        lines = [ln.split("#")[0].strip() for ln in tokens]
        lines = [ln for ln in lines if ln]
        head = lines[0]
        if not head.startswith("OFF"):
            raise ValueError("no OFF header")
        rest = head[3:].strip()
        counts_line, body = (rest, lines[1:]) if rest else (lines[1], lines[2:])
        nv, nf = (int(x) for x in counts_line.split()[:2])
        verts = np.array([list(map(float, ln.split()[:3])) for ln in body[:nv]], dtype=np.float64)
        faces = []
        for ln in body[nv:nv + nf]:
            idx = list(map(int, ln.split()))
            k, poly = idx[0], idx[1:idx[0] + 1]
            faces += [[poly[0], poly[j], poly[j + 1]] for j in range(1, k - 1)]  # fan-triangulate polygons
        if verts.shape != (nv, 3) or len(faces) == 0:
            raise ValueError(f"expected {nv} vertices and {nf} faces")
    except (OSError, ValueError, IndexError) as exc:
        raise DatasetError(f"bad OFF file {p}: {exc}") from exc
    return trimesh.Trimesh(verts, np.asarray(faces, np.int64), process=True)


class ModelNetDataset:
    """3D ground truth of a ModelNet folder: ``voxels32`` (32,32,32), ``points`` (N,3), ``category``, ``shape_id``."""

    def __init__(self, root: str | os.PathLike, split: str = "train", categories: list[str] | None = None,
                 points: int = 16384, skip_bad: bool = False) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"ModelNet folder not found: {self.root}")
        splits = ("train", "test") if split == "all" else (split,)
        files = sorted(p for s in splits for p in self.root.glob(f"*/{s}/*.off")
                       if not categories or p.parts[-3] in categories)
        if not files:
            raise DatasetError(f"no ModelNet .off files under {self.root}/<class>/{split}/")
        self.points = points
        self.files = filter_readable(files, read_off, skip_bad)
        self.categories = sorted({p.parts[-3] for p in self.files})

    def __len__(self) -> int:
        return len(self.files)

    def mesh(self, i: int) -> trimesh.Trimesh:
        """The i-th mesh in the canonical frame (+Y up, centred, unit size)."""
        from lift3d.geometry.normalize import normalize_mesh

        return normalize_mesh(read_off(self.files[i]), up="+z")

    def __getitem__(self, i: int) -> dict:
        from lift3d.geometry.sampling import sample_surface
        from lift3d.geometry.voxels import mesh_to_voxels

        mesh = self.mesh(i)
        pts, _ = sample_surface(mesh, self.points, seed=i)
        return {"voxels32": mesh_to_voxels(mesh, 32).astype(np.float32), "points": pts,
                "category": self.files[i].parts[-3], "shape_id": self.files[i].stem}


def to_lift3d_dataset(root: str | os.PathLike, out: str | os.PathLike, views: int = 12, image_size: int = 128,
                      seed: int = 0, workers: int = 2, quiet: bool = False, skip_bad: bool = False) -> dict:
    """Render a ModelNet folder into a lift3d dataset (categories = ModelNet classes; +Z up handled)."""
    from lift3d.data.generate import generate_dataset

    return generate_dataset(out, views=views, image_size=image_size, seed=seed, workers=workers, quiet=quiet,
                            skip_bad=skip_bad, mesh_source=root, up="+z")
