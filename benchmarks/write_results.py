"""Collect the benchmark reports into docs/results.md and the README's results section.

Reads docs/results_quality.json (from bench_quality.py --json) and the docs/results_*.md reports.

    python benchmarks/write_results.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from lift3d.io.atomic import write_text_atomic

DOCS = Path("docs")
PARTS = ["results_models.md", "results_quality.md", "results_appearance.md", "results_appearance_unseen.md",
         "results_speed.md", "results_datagen.md", "results_chamfer.md", "results_big_photo.md", "results_texture.md",
         "results_assets.md", "results_server.md"]


def _read(name: str) -> str:
    path = DOCS / name
    return path.read_text() if path.is_file() else ""


def readme_block() -> str:
    q = json.loads((DOCS / "results_quality.json").read_text())
    rows = q["rows"]
    mean = {k: sum(v.values()) / len(v) for k, v in rows.items()}
    speed = (DOCS / "results_speed.md").read_text()
    fwd = re.search(r"model forward, 1 view \| ([\d.]+) ms", speed)
    e2e = re.search(r"GLB file .*?\| ([\d.]+) ms", speed)
    lines = [
        f"Held-out test shapes ({q['n_test']}, never seen in training), voxel IoU at 32^3"
        f"{' (ShapeNetVox32 voxel convention, docs/shapes.md)' if q.get('voxel_mode') == 'surface' else ''}:",
        "",
        "| method | mean IoU |",
        "|---|---:|",
        *[f"| {k} | {v:.3f} |" for k, v in mean.items()],
        "",
        f"F-score@0.01 of the meshes: {q['fscore_1v']:.3f} (1 view), {q['fscore_4v']:.3f} (4 views). "
        f"Speed on 2 CPU cores, batch 1: model forward {fwd.group(1) if fwd else '?'} ms per view, image file to "
        f"GLB file {e2e.group(1) if e2e else '?'} ms. Per-category tables: [`docs/results.md`](docs/results.md).",
    ]
    looks = DOCS / "results_appearance.json"
    if looks.is_file():
        a = next(iter(json.loads(looks.read_text()).values()))
        lines += ["", "The same test shapes in three looks (`benchmarks/bench_appearance.py`, "
                  "[`docs/results_appearance.md`](docs/results_appearance.md)), mean IoU from 1 / 4 views:", "",
                  "| look | 1 view | 4 views |", "|---|---:|---:|",
                  *[f"| {name} | {a[f'{key}_1v']['score']:.3f} | {a[f'{key}_4v']['score']:.3f} |" for key, name in
                    (("photo", "photo-like (the training look)"), ("plain", "plain (flat colours, one light)"),
                     ("shift", "held-out look (textures and lights never trained on)"))],
                  "", f"The held-out look costs {-a['shift_minus_plain_1v']:.3f} IoU from one view and "
                  f"{-a['shift_minus_plain_4v']:.3f} from four against the plain look (same shapes)."]
    models = DOCS / "results_models.json"
    if models.is_file():
        res = json.loads(models.read_text())
        note = res.pop("_note", "")
        lines += ["", "All shipped models and the baselines through one evaluation (output mesh voxelised like the "
                  "ground truth for IoU; surface points for Chamfer-L1 and F-score; "
                  f"[`docs/results_models.md`](docs/results_models.md)){note}:", "",
                  "| method | IoU | Chamfer-L1 | F-score@0.01 | F-score@0.02 | normal consistency |",
                  "|---|---:|---:|---:|---:|---:|",
                  *[f"| {k} | {r['iou']:.3f} | {r['chamfer_l1']:.4f} | {r['fscore@0.01']:.3f} | "
                    f"{r['fscore@0.02']:.3f} | {r['normal_consistency']:.3f} |" for k, r in res.items()]]
    gen = _read("results_datagen.md")
    gen_t = re.search(r"\| random \| (\d+) x 12 \| 128 x 128 \| 2 \| ([\d.]+ s) \|", gen)
    cham = _read("results_chamfer.md")
    cham_t = re.search(r"100,000 x 100,000 \| KD-tree[^|]*\| ([\d.]+ s) \| (\d+ MB)", cham)
    if gen_t:
        lines.append(f"\nData generation (photo-like look): {gen_t.group(1)} shapes x 12 views at 128 px with 2 "
                     f"workers in {gen_t.group(2)}.")
    if cham_t:
        lines.append(f"\nChamfer-L1 of 100k x 100k points (KD-tree): {cham_t.group(1)}, peak {cham_t.group(2)}.")
    big = re.search(r"\| (\d+ MP) photo[^|]*\| ([\d.]+) \| ([\d.]+) \| (\d+) \|", _read("results_big_photo.md"))
    if big:
        lines.append(f"\nA {big.group(1)} photo, image file to GLB file (start-up included): {big.group(2)} s, peak "
                     f"{big.group(4)} MB ([`docs/results_big_photo.md`](docs/results_big_photo.md)).")
    tex = DOCS / "results_texture.json"
    if tex.is_file():
        t = json.loads(tex.read_text())
        lines.append(f"\nTexture from the photo ({t['n']} test shapes, one photo each; unlit render from the photo's "
                     f"camera vs the photo, mean absolute colour error): {t['fitted']:.4f} with the camera fitted to "
                     f"the silhouette (what `reconstruct` does), {t['known']:.4f} with the calibrated camera, "
                     f"{t['flat']:.4f} for one flat colour; the unseen side from another view: {t['other_sym']:.4f} "
                     f"(flat colour {t['other_flat']:.4f}). {t['seconds']:.1f} s per photo "
                     "([`docs/results_texture.md`](docs/results_texture.md)).")
    assets = DOCS / "results_assets.json"
    if assets.is_file():
        a = json.loads(assets.read_text())
        rows = ", ".join(f"{k} {r['passes']:.0%}" for k, r in a.items())
        n = next(iter(a.values()))["n"]
        lines.append(f"\nAsset-ready meshes ({n} test shapes, one photo each): share passing `lift3d check` (closed, "
                     f"manifold, outward normals, no speck under 1% of the volume) as `reconstruct` writes them: "
                     f"{rows} ([`docs/results_assets.md`](docs/results_assets.md)).")
    server = DOCS / "results_server.json"
    if server.is_file():
        rows = {r["row"]: r for r in json.loads(server.read_text())}
        parts = [f"{r['what']}: {r['ok']} ok, {r['refused_503']} refused by the queue limit, {r['errors']} errors, "
                 f"p50 / p95 {r['p50_s']:.1f} / {r['p95_s']:.1f} s, {r['throughput_rps']:.2f} requests/s, peak "
                 f"{r['peak_rss_mb']:.0f} MB" for r in rows.values()]
        single = min(rows.values(), key=lambda r: r["single_median_ms"])
        lines.append(f"\n`lift3d serve` under {single['requests']} concurrent 1-view requests on loopback "
                     f"(`benchmarks/bench_server.py`): " + "; ".join(parts) + f". A warm server answers one 1-view "
                     f"voxel request (STL) in {single['single_median_ms']:.0f} ms median end to end "
                     f"([`docs/results_server.md`](docs/results_server.md)).")
    return "\n".join(lines)


def main() -> None:
    body = "# Results\n\nRegenerated by the scripts in `benchmarks/` (see `make bench` and `make weights`).\n\n"
    for name in PARTS:
        if text := _read(name):
            body += text.replace("\n# ", "\n## ").replace("# ", "## ", 1) + "\n"
    write_text_atomic(DOCS / "results.md", body)
    readme = Path("README.md").read_text()
    new = re.sub(r"<!-- results:start -->.*<!-- results:end -->",
                 "<!-- results:start -->\n" + readme_block() + "\n<!-- results:end -->", readme, flags=re.S)
    write_text_atomic("README.md", new)
    print("updated docs/results.md and README.md")


if __name__ == "__main__":
    main()
