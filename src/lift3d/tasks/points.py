"""Point sets: the network predicts ``N`` surface points ``(B, N, 3)`` in the canonical frame (PSGN-style models).

Scored by F-score@0.01 of the predicted points against the ground-truth surface samples (dataset target
``points``); meshes through the points by screened Poisson (:func:`lift3d.geometry.surface.points_to_mesh`).
"""

from __future__ import annotations

import numpy as np
import torch
import trimesh
from torch import nn

from lift3d.errors import InputError
from lift3d.tasks import TASKS
from lift3d.tasks.base import Prediction, Task, eval_batches, mesh_scores, per_category, surface_points


def estimate_normals(points: np.ndarray, knn: int = 20, orient: bool = True) -> np.ndarray:
    """Unit normals float32 ``(N, 3)`` of a point cloud ``(N, 3)`` from its ``knn`` nearest neighbours (Open3D).

    With ``orient`` they are made consistent over the cloud (tangent-plane propagation) and point away from the
    centroid on average (outward for a closed, roughly convex object); without, their sign is arbitrary.
    """
    import open3d as o3d

    pts = np.asarray(points, np.float64)
    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts))
    pcd.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(knn=knn))
    if orient:
        pcd.orient_normals_consistent_tangent_plane(10)
    n = np.asarray(pcd.normals)
    if orient and np.mean(np.sum((pts - pts.mean(axis=0)) * n, axis=1)) < 0:
        n = -n
    return n.astype(np.float32)


@TASKS.register("points")
class PointsTask(Task):
    """A fixed-size point set (``out["points"] (B, N, 3)``), scored by F-score@0.01 (higher is better).

    Network output: ``{"points": (B, N, 3)}``. Dataset target: ``points`` (+ ``normals``), float32 ``(B, P, 3)``.
    Loss: :class:`lift3d.losses.points.PointsLoss` (Chamfer, optionally EMD) unless the config names another.

    Class attributes:
        surface: :func:`~lift3d.geometry.surface.points_to_mesh` method of :meth:`to_mesh`.
        poisson_depth: its octree depth (``poisson``).

    Why screened Poisson at depth 6, then Taubin smoothing: measured on 2048 ground-truth surface samples of
    validation shapes with Gaussian noise (a stand-in for predictions), mesh F-score@0.01 / tight 32^3 IoU at
    sigma 0.01 (20 shapes): Poisson 0.489 / 0.58 against ball pivoting 0.485 / 0.32 (0.451 / 0.30 smoothed); at
    sigma 0.02 (10 shapes): 0.328 / 0.52 against 0.258 / 0.31. Ball pivoting only wins on exact samples (0.717 vs
    0.61) and leaves holes, which voxelise poorly; depths 7 and 8 score the same as 6 and are slower.
    """

    name = "points"
    targets = ("points",)
    score = "fscore"
    default_loss = "points"
    thresholded = False
    surface = "poisson"
    poisson_depth = 6

    def train_metrics(self, out: dict[str, torch.Tensor], batch: dict) -> dict[str, float]:
        """The loss's own terms of this step (``train_chamfer``, ``train_emd``), nothing recomputed."""
        return {f"train_{k}": v for k, v in getattr(self.loss_fn, "terms", {}).items()}

    def evaluate(self, model: nn.Module, dataset, views: int = 1, thresholds=(0.3, 0.4, 0.5, 0.6),
                 threshold: float | None = None, batch_size: int = 16, limit: int | None = None,
                 fscore: bool = False, quiet: bool = True) -> dict:
        """F-score@0.01 (the score), F-score@0.02 and Chamfer-L1 of the predicted points against the ground-truth
        surface samples, mean and per category (F-score@0.01). F-score@0.01 of N points is bounded by their
        density: 2048 exact surface samples score 0.58 on the default data.

        ``thresholds`` and ``threshold`` do not apply (no occupancy). With ``fscore`` (the full report; validation
        during training skips it, since it costs ~10x more) also ``normal_consistency`` (estimated normals of the
        predicted points against the ground-truth normals, where the dataset has them) and ``mesh_fscore@0.01``,
        ``mesh_fscore@0.02``, ``mesh_chamfer_l1`` of the :meth:`to_mesh` surface (10,000 samples), which are not
        bounded by the number of predicted points.
        """
        from lift3d.metrics import normal_consistency

        keys = ("fscore@0.01", "fscore@0.02", "chamfer_l1", "normal_consistency")
        values: dict[str, list[float]] = {k: [] for k in keys}
        values.update({f"mesh_{k}": [] for k in keys[:3]} if fscore else {})
        cats: list[str] = []
        for batch in eval_batches(model, dataset, views, batch_size, limit, quiet):
            points = model(batch["images"])["points"].float().numpy()
            gt = batch["points"].numpy()
            gt_normals = batch["normals"].numpy() if "normals" in batch else [None] * len(points)
            for pred, g, gn in zip(points, gt, gt_normals, strict=True):
                for k, v in mesh_scores(pred, g).items():
                    values[k].append(v)
                if fscore and gn is not None:
                    nc = normal_consistency(pred, estimate_normals(pred, orient=False), g, gn)
                    values["normal_consistency"].append(float(nc))
                if fscore:
                    surface = surface_points(self.to_mesh(Prediction("points", points=pred), smooth_iterations=0))
                    for k, v in mesh_scores(surface, g).items():
                        values[f"mesh_{k}"].append(v)
            cats += batch["category"]
        if not cats:
            raise InputError("cannot evaluate on an empty dataset")
        score = np.asarray(values["fscore@0.01"])
        result = {"views": views, "n": len(score), "score": float(score.mean()),
                  "per_category": per_category(score, cats)}
        result.update({k: float(np.mean(v)) for k, v in values.items() if v})
        return result

    @torch.inference_mode()
    def predict(self, model: nn.Module, images: torch.Tensor, threshold: float | None = None,
                **options) -> list[Prediction]:
        """Images ``(B, V, 3, S, S)`` -> one ``points`` :class:`Prediction` (float32 ``(N, 3)``) per object;
        ``threshold`` does not apply."""
        self.check_options(options)
        points = model(images)["points"].float().numpy()
        return [Prediction("points", points=p.astype(np.float32)) for p in points]

    def to_mesh(self, pred: Prediction, smooth_iterations: int = 10) -> trimesh.Trimesh | None:
        """A surface through the predicted points (:attr:`surface`), cleaned and Taubin-smoothed
        (:func:`lift3d.postprocess.refine`); None when no surface can be built."""
        from lift3d.geometry.surface import points_to_mesh
        from lift3d.postprocess import refine

        pts = self._points(pred)
        try:
            mesh = points_to_mesh(pts, estimate_normals(pts), method=self.surface, depth=self.poisson_depth)
            mesh = refine(mesh, smooth_iters=smooth_iterations)
        except InputError:
            return None
        return mesh if len(mesh.faces) else None

    def to_points(self, pred: Prediction, mesh: trimesh.Trimesh | None, n: int = 16384,
                  ) -> tuple[np.ndarray, np.ndarray | None]:
        """The predicted points ``(N, 3)`` themselves (``n`` does not apply) and their estimated, outward-oriented
        normals ``(N, 3)``."""
        pts = self._points(pred)
        return pts, estimate_normals(pts)

    def to_voxels(self, pred: Prediction, mesh: trimesh.Trimesh | None) -> np.ndarray:
        """bool ``(32, 32, 32)``: the mesh voxelised like the ground truth (``tight``), or, without a mesh, the
        cells that hold a predicted point."""
        from lift3d.geometry.voxels import mesh_to_voxels

        if mesh is not None:
            return mesh_to_voxels(mesh, 32, mode="tight")
        res = 32
        idx = np.clip(np.floor((self._points(pred) + 0.5) * res).astype(np.int64), 0, res - 1)
        grid = np.zeros((res, res, res), bool)
        grid[idx[:, 0], idx[:, 1], idx[:, 2]] = True
        return grid

    @staticmethod
    def _points(pred: Prediction) -> np.ndarray:
        if pred.points is None or len(pred.points) == 0:
            raise InputError("the prediction holds no points")
        return np.asarray(pred.points, np.float32)
