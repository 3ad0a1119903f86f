"""Appearance-shift benchmark: the same held-out test shapes under the training look, the plain look and a look
no training image has, per category, for any checkpoint on the model contract.

The test sets are the test split of each dataset (``lift3d data generate --only-split test`` writes exactly the
test shapes of the full dataset with another ``--appearance``):

* ``photo``: the training look (``--appearance random``: textures, materials, light rigs, lenses);
* ``plain``: flat colours, one light, a 40 degree lens — the original look; its 10 original families are the
  test set the earlier shipped model was measured on;
* ``shift``: marble/camouflage textures and a studio three-point rig, never used in training.

    python benchmarks/bench_appearance.py --checkpoint src/lift3d/weights/default.safetensors \
        --set photo=data/default --set plain=data/plain --set shift=data/shift
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from lift3d.data.readers import open_dataset
from lift3d.io.atomic import write_text_atomic
from lift3d.models.checkpoint import load_model
from lift3d.tasks import task_for_model

ORIGINAL_FAMILIES = ("airplane", "bottle", "cabinet", "car", "chair", "composite", "lamp", "mug", "sofa", "table")


def score_sets(checkpoint: str, sets: dict[str, str], views: list[int], limit: int | None) -> tuple[dict, dict]:
    """``{set: {views: evaluate-result}}`` of one checkpoint, and its config."""
    model, cfg, meta = load_model(checkpoint)
    task = task_for_model(model)
    level = float(meta.get("threshold", 0.5))
    out: dict = {}
    for name, root in sets.items():
        test = open_dataset(root, split="test", targets=task.targets, image_size=int(cfg["data"]["image_size"]))
        out[name] = {v: task.evaluate(model, test, views=v, threshold=level, limit=limit) for v in views}
    return out, {"model": cfg["model"]["name"], "score": task.score, "threshold": level,
                 "epoch": meta.get("epoch"), "checkpoint": checkpoint}


def report(results: dict, info: dict, sets: dict[str, str]) -> tuple[str, dict]:
    """Markdown table (rows: set x views, columns: categories) and a JSON summary."""
    cats = sorted({c for per_v in results.values() for r in per_v.values() for c in r["per_category"]})
    head = "| test set | views | " + " | ".join(cats) + " | **mean** | original 10 |\n|---|---|" + "---:|" * (
        len(cats) + 2) + "\n"
    rows, summary = "", {}
    for name, per_v in results.items():
        for v, r in per_v.items():
            pc = r["per_category"]
            orig = [pc[c] for c in ORIGINAL_FAMILIES if c in pc]
            cells = " | ".join(f"{pc[c]:.3f}" if c in pc else "" for c in cats)
            rows += (f"| {name} (`{sets[name]}`) | {v} | {cells} | **{r['score']:.3f}** | "
                     f"{np.mean(orig):.3f} |\n")
            summary[f"{name}_{v}v"] = {"score": r["score"], "original10": float(np.mean(orig)) if orig else None,
                                       "per_category": pc, "n": r["n"]}
    delta = ""
    if "shift" in results and "plain" in results:
        lines = []
        for v in results["shift"]:
            s, p = results["shift"][v]["per_category"], results["plain"][v]["per_category"]
            common = [c for c in cats if c in s and c in p]
            d = {c: s[c] - p[c] for c in common}
            summary[f"shift_minus_plain_{v}v"] = float(np.mean(list(d.values())))
            lines.append(f"| {v} | " + " | ".join(f"{d[c]:+.3f}" if c in d else "" for c in cats)
                         + f" | **{np.mean(list(d.values())):+.3f}** |")
        delta = ("\nWhat the unseen look costs (shift minus plain, same shapes):\n\n| views | " + " | ".join(cats)
                 + " | **mean** |\n|---|" + "---:|" * (len(cats) + 1) + "\n" + "\n".join(lines) + "\n")
    text = (f"## Appearance shift: {info['model']} model (`{info['checkpoint']}`)\n\n"
            f"{info['score']} per category on the held-out test shapes"
            f" of each test set (epoch {info['epoch']}, threshold {info['threshold']:.2f}); 'original 10' is the "
            f"mean over the families the first shipped model was trained on.\n\n{head}{rows}{delta}")
    return text, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", action="append", required=True, help="repeatable")
    ap.add_argument("--set", action="append", required=True, help="NAME=DATASET (repeatable)")
    ap.add_argument("--views", default="1,4")
    ap.add_argument("--limit", type=int, default=None, help="only the first N test shapes (smoke runs)")
    ap.add_argument("--out", default="docs/results_appearance.md")
    ap.add_argument("--json", default="docs/results_appearance.json")
    ap.add_argument("--title", default="Appearance shift")
    ap.add_argument("--intro", default="The same held-out test shapes rendered three ways (see "
                    "`benchmarks/bench_appearance.py`).")
    args = ap.parse_args()
    torch.set_num_threads(2)
    sets = dict(s.split("=", 1) for s in args.set)
    views = [int(v) for v in args.views.split(",")]
    t0 = time.time()
    texts, summary = [], {}
    for ckpt in args.checkpoint:
        results, info = score_sets(ckpt, sets, views, args.limit)
        text, summ = report(results, info, sets)
        texts.append(text)
        summary[f"{info['model']}:{ckpt}"] = summ
        print(text, flush=True)
    body = f"# {args.title}\n\n{args.intro} Generated in {time.time() - t0:.0f} s.\n\n" + "\n".join(texts)
    write_text_atomic(args.out, body)
    write_text_atomic(args.json, json.dumps(summary, indent=1))
    print(f"wrote {args.out} and {args.json}")


if __name__ == "__main__":
    main()
