"""Compare the shipped models (voxel, points, occupancy) and baselines on the same held-out test shapes.

Every method goes through the same steps, so the numbers compare: the model's task turns its prediction into its
output mesh (``Task.to_mesh``: marching cubes + refinement for grids and fields, a surface through the points for
the point model) and its surface points (``Task.to_points``: the point model's own points, otherwise 10k samples of
the mesh). Then, against the test shape's ground truth (canonical frame, object in the unit cube):

* IoU at 32^3: the output mesh voxelised exactly as the ground truth was (``mesh_to_voxels``, tight: a cell is
  inside when at least half of it is), so no representation is scored on its own grid;
* Chamfer-L1, F-score@0.01 / @0.02 of the surface points against 16k ground-truth surface points;
* normal consistency of the surface points' normals against the ground truth's;
* forward time (image -> prediction, batch 1, median) and mesh time, and the number of parameters.

    python benchmarks/bench_models.py --data data/default --out docs/results_models.md --json docs/results_models.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

from lift3d.data.dataset import ShapeDataset
from lift3d.errors import InputError
from lift3d.geometry.voxels import mesh_to_voxels, voxels_to_mesh
from lift3d.io.atomic import write_text_atomic
from lift3d.metrics import normal_consistency, voxel_iou
from lift3d.postprocess import refine
from lift3d.reconstruct.pipeline import SHIPPED, Reconstructor, shipped_checkpoint
from lift3d.tasks.base import mesh_scores
from lift3d.train.baselines import hull_grids, mean_shape_grids

KEYS = ("iou", "chamfer_l1", "fscore@0.01", "fscore@0.02", "normal_consistency")


def surface_metrics(mesh, points, normals, item: dict, occ_override: np.ndarray | None = None) -> dict[str, float]:
    """The table's metrics of one output: ``mesh`` (or None), surface ``points (N, 3)`` + ``normals (N, 3)``."""
    gt_occ = item["voxels32"] >= 0.5
    if mesh is None:
        occ = np.zeros_like(gt_occ)
    else:
        occ = mesh_to_voxels(mesh, 32) if occ_override is None else occ_override
    out = {"iou": float(voxel_iou(occ, gt_occ))}
    out.update(mesh_scores(points, item["points"]))
    nc = 0.0
    if points is not None and normals is not None:
        nc = float(normal_consistency(points, normals, item["points"], item["normals"]))
    out["normal_consistency"] = nc
    return out


def grid_method(grids: np.ndarray, test: ShapeDataset) -> list[dict[str, float]]:
    """Metrics of baseline occupancy grids ``(N, 32, 32, 32)`` meshed like the voxel model's output."""
    from lift3d.geometry.sampling import sample_surface

    rows = []
    for i, g in enumerate(grids):
        item = test[i]
        mesh = refine(voxels_to_mesh(g.astype(np.float32), 0.5)) if g.any() else None
        pts, nrm = sample_surface(mesh, 10000, seed=0) if mesh is not None else (None, None)
        rows.append(surface_metrics(mesh, pts, nrm, item, occ_override=g))
    return rows


def model_method(rec: Reconstructor, test: ShapeDataset, views: int) -> tuple[list[dict[str, float]], dict]:
    """Metrics of a shipped model on every test shape with ``views`` views, and its timings."""
    rows, fwd, mesh_t = [], [], []
    test.set_num_views(views)
    for i in range(len(test)):
        item = test[i]
        t0 = time.perf_counter()
        pred = rec.predict(item["images"][None])[0]
        t1 = time.perf_counter()
        mesh = rec.task.to_mesh(pred)
        t2 = time.perf_counter()
        fwd.append(t1 - t0)
        mesh_t.append(t2 - t1)
        try:
            pts, nrm = rec.task.to_points(pred, mesh, 10000)
        except InputError:  # nothing reconstructed: scored as the worst case by mesh_scores
            pts, nrm = None, None
        rows.append(surface_metrics(mesh, pts, nrm, item))
    params = sum(p.numel() for p in rec.model.parameters())
    return rows, {"forward_ms": 1000 * statistics.median(fwd), "mesh_ms": 1000 * statistics.median(mesh_t),
                  "params": params}


def summarise(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.mean([r[k] for r in rows])) for k in KEYS}


def table(results: dict[str, dict]) -> str:
    head = ("| method | IoU | Chamfer-L1 | F-score@0.01 | F-score@0.02 | normal consistency | forward ms | mesh ms "
            "| parameters |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    body = ""
    for name, r in results.items():
        t = r.get("timing", {})
        extra = (f"{t['forward_ms']:.0f} | {t['mesh_ms']:.0f} | {t['params'] / 1e6:.2f} M" if t else "- | - | -")
        body += (f"| {name} | {r['iou']:.3f} | {r['chamfer_l1']:.4f} | {r['fscore@0.01']:.3f} | {r['fscore@0.02']:.3f}"
                 f" | {r['normal_consistency']:.3f} | {extra} |\n")
    return head + body


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--models", default=",".join(SHIPPED), help="shipped models to compare (comma-separated)")
    ap.add_argument("--views", default="1,4")
    ap.add_argument("--limit", type=int, default=None, help="only the first N test shapes (smoke runs)")
    ap.add_argument("--out", default="docs/results_models.md")
    ap.add_argument("--json", default="docs/results_models.json")
    args = ap.parse_args()
    torch.set_num_threads(2)
    t_start = time.time()
    mk = dict(targets=("voxels32", "points"), image_size=96)
    train, val, test = (ShapeDataset(args.data, s, **mk) for s in ("train", "val", "test"))
    if args.limit:
        test.shapes = test.shapes[: args.limit]
    results: dict[str, dict] = {}
    for v in (int(x) for x in args.views.split(",")):
        for name in args.models.split(","):
            rec = Reconstructor(shipped_checkpoint(name), threads=2)
            if int(rec.config["data"]["image_size"]) != test.image_size:
                test = ShapeDataset(args.data, "test", **{**mk, "image_size": int(rec.config["data"]["image_size"])})
            rows, timing = model_method(rec, test, v)
            results[f"lift3d {name}, {v} view{'s' if v > 1 else ''}"] = {**summarise(rows), "timing": timing}
            print(name, v, results[f"lift3d {name}, {v} view{'s' if v > 1 else ''}"], flush=True)
    results["mean shape (oracle class)"] = summarise(grid_method(mean_shape_grids(train, val, test), test))
    for v in (1, 4):
        results[f"visual hull, {v} view{'s' if v > 1 else ''}"] = summarise(grid_method(hull_grids(test, v), test))
    report = (
        "# Models compared on held-out test shapes\n\n"
        f"{len(test)} test shapes of `{args.data}` (split by shape; never seen in training). Each method's output "
        "mesh is voxelised at 32^3 the way the ground truth was (tight convention) for IoU; Chamfer-L1 and F-score "
        "use its surface points (the point model's own 2048 points, otherwise 10k samples of the mesh) against 16k "
        "ground-truth surface points, canonical frame (object in the unit cube; tau 0.01 = 1% of its size). Occupancy "
        "meshes are extracted at 128^3. Times: batch 1 on 2 CPU threads.\n\n" + table(results) +
        f"\nGenerated by `benchmarks/bench_models.py` in {time.time() - t_start:.0f} s.\n")
    write_text_atomic(args.out, report)
    write_text_atomic(args.json, json.dumps(results, indent=1))
    print(report)


if __name__ == "__main__":
    main()
