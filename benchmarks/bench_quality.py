"""Quality benchmark on held-out test shapes: the model (1 and 4 views) against two baselines.

* mean shape: the average training voxel grid of the shape's (true) category, thresholded at the level that
  maximises IoU on the validation shapes — an oracle-class prior, so a stronger baseline than one that must
  first classify the image;
* visual hull: the grid carved from the ground-truth masks with the known cameras (1 and 4 views).

Writes a markdown report (``--out``), optionally the model card, and can install the checkpoint as the
shipped default weights (stored as float16 to halve the package size).

    python benchmarks/bench_quality.py --checkpoint runs/default/best.safetensors --data data/default \
        --out docs/results_quality.md --card src/lift3d/weights/MODEL_CARD.md \
        --install-to src/lift3d/weights/default.safetensors
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from lift3d.data.dataset import ShapeDataset
from lift3d.geometry.carving import visual_hull
from lift3d.geometry.voxels import VOXEL_CONVENTIONS
from lift3d.io.atomic import write_text_atomic
from lift3d.metrics import voxel_iou
from lift3d.models.checkpoint import load_model, save_checkpoint
from lift3d.train.evaluate import evaluate


def mean_shapes(train: ShapeDataset) -> dict[str, np.ndarray]:
    """Average training occupancy per category ``{category: (32, 32, 32)}``."""
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for i, s in enumerate(train.shapes):
        vox = train._npz(train.shape_dir(i) / "gt.npz", ["voxels32"])["voxels32"].astype(np.float64)
        sums[s["category"]] = sums.get(s["category"], 0) + vox
        counts[s["category"]] = counts.get(s["category"], 0) + 1
    return {c: sums[c] / counts[c] for c in sums}


def gt_voxels(ds: ShapeDataset, i: int) -> np.ndarray:
    return ds._npz(ds.shape_dir(i) / "gt.npz", ["voxels32"])["voxels32"]


def mean_shape_baseline(train: ShapeDataset, val: ShapeDataset, test: ShapeDataset) -> dict[str, float]:
    means = mean_shapes(train)
    ths = np.linspace(0.1, 0.7, 13)
    val_scores = [np.mean([voxel_iou(means[s["category"]], gt_voxels(val, i), t) for i, s in enumerate(val.shapes)])
                  for t in ths]
    t = float(ths[int(np.argmax(val_scores))])
    per = {}
    for i, s in enumerate(test.shapes):
        per.setdefault(s["category"], []).append(voxel_iou(means[s["category"]], gt_voxels(test, i), t))
    return {c: float(np.mean(v)) for c, v in per.items()}


def hull_baseline(test: ShapeDataset, views: int) -> dict[str, float]:
    per: dict[str, list[float]] = {}
    for i, s in enumerate(test.shapes):
        ids = list(range(views))
        hull = visual_hull(test.masks_full(i, ids), [test.cameras(i)[v] for v in ids], res=32)
        per.setdefault(s["category"], []).append(voxel_iou(hull, gt_voxels(test, i), 0.5))
    return {c: float(np.mean(v)) for c, v in per.items()}


def table(rows: dict[str, dict[str, float]], cats: list[str]) -> str:
    head = "| method | " + " | ".join(cats) + " | **mean** |\n|---|" + "---:|" * (len(cats) + 1) + "\n"
    body = ""
    for name, per in rows.items():
        vals = [per.get(c, float("nan")) for c in cats]
        body += f"| {name} | " + " | ".join(f"{v:.3f}" for v in vals) + f" | **{np.mean(vals):.3f}** |\n"
    return head + body


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", default="docs/results_quality.md")
    ap.add_argument("--json", default=None)
    ap.add_argument("--card", default=None)
    ap.add_argument("--install-to", default=None)
    ap.add_argument("--limit", type=int, default=None, help="Evaluate only the first N test shapes (smoke runs).")
    args = ap.parse_args()
    torch.set_num_threads(2)
    model, cfg, meta = load_model(args.checkpoint)
    level = float(meta.get("threshold", 0.5))
    size = int(cfg["data"]["image_size"])
    mk = dict(targets=("voxels32", "points"), image_size=size)
    train, val, test = (ShapeDataset(args.data, s, **mk) for s in ("train", "val", "test"))
    if args.limit:
        test.shapes = test.shapes[: args.limit]
    t0 = time.time()
    res1 = evaluate(model, test, views=1, threshold=level, fscore=True)
    res4 = evaluate(model, test, views=4, threshold=level, fscore=True)
    rows = {
        "lift3d, 1 view": res1["per_category"],
        "lift3d, 4 views": res4["per_category"],
        "mean shape (oracle class)": mean_shape_baseline(train, val, test),
        "visual hull, 1 view": hull_baseline(test, 1),
        "visual hull, 4 views": hull_baseline(test, 4),
    }
    cats = sorted(res1["per_category"])
    mode = train.manifest["voxel_mode"]
    convention = VOXEL_CONVENTIONS[mode]
    report = (
        f"# Quality on held-out test shapes\n\n{len(test)} test shapes ({len(train)} train, {len(val)} val; split by "
        f"shape), voxel IoU at 32^3 against {convention}, threshold {level:.2f} (chosen on validation shapes).\n\n"
        + table(rows, cats) +
        f"\nMesh metrics (marching cubes of the prediction vs 16k GT surface points, canonical frame):\n\n"
        f"| views | F-score@0.01 | F-score@0.02 | Chamfer-L1 |\n|---|---:|---:|---:|\n"
        f"| 1 | {res1['fscore@0.01']:.3f} | {res1['fscore@0.02']:.3f} | {res1['chamfer_l1']:.4f} |\n"
        f"| 4 | {res4['fscore@0.01']:.3f} | {res4['fscore@0.02']:.3f} | {res4['chamfer_l1']:.4f} |\n\n"
        f"Checkpoint `{Path(args.checkpoint).name}` (epoch {meta.get('epoch')}), data `{args.data}`. "
        f"Generated by `benchmarks/bench_quality.py` in {time.time() - t0:.0f} s.\n"
    )
    write_text_atomic(args.out, report)
    summary = {"iou_1v": res1["iou"], "iou_4v": res4["iou"], "threshold": level, "rows": rows,
               "fscore_1v": res1["fscore@0.01"], "fscore_4v": res4["fscore@0.01"], "n_test": len(test),
               "voxel_mode": mode}
    if args.json:
        write_text_atomic(args.json, json.dumps(summary, indent=1))
    print(report)
    if args.install_to:
        half = model.half()
        save_checkpoint(args.install_to, half, cfg, {**meta, "test": {k: v for k, v in summary.items() if k != "rows"}})
        print(f"installed {args.install_to} ({Path(args.install_to).stat().st_size / 1e6:.1f} MB, float16)")
    if args.card:
        from lift3d.weights.card import write_model_card

        write_model_card(args.card, cfg, meta, report, args.data, mode)


if __name__ == "__main__":
    main()
