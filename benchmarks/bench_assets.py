"""Do the shipped models' meshes pass the mesh quality report after the default refinement? (issue 19)

For held-out test shapes of a lift3d dataset (split by shape), view 0 goes through each shipped model exactly as
``lift3d reconstruct photo.png -o model.glb`` runs it (default refinement, default options), and the mesh gets
:func:`lift3d.quality.check_mesh_quality`: closed (no boundary or non-manifold edges), manifold, consistently
outward normals, no part under 1% of the volume; also self-intersecting triangle pairs (reported, not required)
and the genus. Prints the table and writes ``docs/results_assets.md`` + ``.json``.

    python benchmarks/bench_assets.py [--data data/default] [--shapes 50] [--models voxel,occupancy,points]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lift3d.data.dataset import ShapeDataset
from lift3d.io.atomic import write_text_atomic
from lift3d.quality import check_mesh_quality
from lift3d.reconstruct.assets import AssetOptions, build_assets
from lift3d.reconstruct.pipeline import Reconstructor, shipped_checkpoint

DOCS = Path(__file__).resolve().parent.parent / "docs"
ITEMS = ("closed", "manifold", "outward", "no_specks")
# The evaluation tables (bench_models) measure the model's surface before the asset step closes it.


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("data/default"))
    ap.add_argument("--shapes", type=int, default=50)
    ap.add_argument("--models", default="voxel,occupancy,points")
    ap.add_argument("--out", type=Path, default=DOCS / "results_assets.md")
    args = ap.parse_args()

    ds = ShapeDataset(args.data, split="test")
    picks = np.linspace(0, len(ds) - 1, min(args.shapes, len(ds))).round().astype(int)
    results = {}
    for name in args.models.split(","):
        model = Reconstructor(shipped_checkpoint(name), threads=2)
        rows = {k: 0 for k in (*ITEMS, "passes", "empty", "self_intersecting")}
        genus0, closed_by_asset, faces, seconds, failures = 0, 0, [], [], []
        for i in tqdm(picks, desc=name, unit="shape"):
            rgba, mask = ds.read_view(int(i), 0)
            rec = model.reconstruct([rgba], [mask])
            if rec.mesh is None:
                rows["empty"] += 1
                continue
            asset = build_assets(rec.mesh, Path("model.glb"), [rgba], rec.masks, AssetOptions(texture="none"))[0]
            t0 = time.perf_counter()
            rep = check_mesh_quality(asset.mesh)
            seconds.append(time.perf_counter() - t0)
            problems = rep.problems(ITEMS)
            for item in ITEMS:
                rows[item] += rep.passes([item])
            rows["passes"] += not problems
            rows["self_intersecting"] += bool(rep.self_intersections)
            genus0 += rep.genus == 0
            faces.append(len(asset.mesh.faces))
            closed_by_asset += bool(asset.notes)
            if problems:
                failures.append(f"{ds.describe(int(i))[1]}: {rep.verdict()}")
        n = len(picks)
        results[name] = {**{k: v / n for k, v in rows.items()}, "genus0": genus0 / n, "n": n,
                         "closed_by_asset_step": closed_by_asset / n,
                         "faces": float(np.mean(faces)) if faces else 0.0,
                         "check_seconds": float(np.mean(seconds)) if seconds else 0.0, "failures": failures[:5]}
    md = ["# Are the meshes asset-ready?", "",
          f"{len(picks)} held-out test shapes of `{args.data}` (split by shape), view 0 through each shipped model "
          "with the default refinement and asset step (what `lift3d reconstruct photo.png -o model.glb` writes: an "
          "open surface is closed by hole filling or a 64^3 voxel remesh), then `lift3d check`'s report "
          "(`benchmarks/bench_assets.py`). Share of shapes:", "",
          "| model | passes all four | closed | manifold | outward normals | no speck (< 1% of the volume) | "
          "genus 0 | any self-intersection | closed by the asset step | mean faces | report time |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        md.append(f"| {name} | {r['passes']:.0%} | {r['closed']:.0%} | {r['manifold']:.0%} | {r['outward']:.0%} | "
                  f"{r['no_specks']:.0%} | {r['genus0']:.0%} | {r['self_intersecting']:.0%} | "
                  f"{r['closed_by_asset_step']:.0%} | {r['faces']:.0f} | "
                  f"{r['check_seconds'] * 1000:.0f} ms |")
    for name, r in results.items():
        if r["failures"]:
            md += ["", f"First failures of `{name}`:", "", *[f"- {f}" for f in r["failures"]]]
    text = "\n".join(md) + "\n"
    print(text)
    write_text_atomic(args.out, text)
    write_text_atomic(args.out.with_suffix(".json"), json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
