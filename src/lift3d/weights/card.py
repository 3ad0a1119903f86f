"""Write the model card of the shipped weights: data, command, seed, metrics on held-out shapes."""

from __future__ import annotations

import json
import os

from lift3d.io.atomic import write_text_atomic


def write_model_card(path: str | os.PathLike, config: dict, meta: dict, report: str, data: str,
                     voxel_mode: str = "tight") -> None:
    """``report`` is the markdown produced by ``benchmarks/bench_quality.py``; ``voxel_mode`` is the dataset's."""
    from lift3d.geometry.voxels import VOXEL_CONVENTIONS

    voxels = VOXEL_CONVENTIONS[voxel_mode]
    t, o, d = config["train"], config["optim"], config["data"]
    val = {k: round(v, 4) for k, v in meta.items() if k.startswith("val_iou") and isinstance(v, float)}
    training = (
        f"epoch {meta.get('epoch')} of {t['epochs']} (budget {t.get('max_minutes')} min), optimiser {o['name']} "
        f"lr {o['lr']}, {config['schedule']['name']} schedule, batch {d['batch_size']}, 1..{d['max_views']} views "
        f"per batch. Validation IoU at selection: {json.dumps(val)}; threshold {meta.get('threshold')}."
    )
    enc = config["model"].get("encoder", {})
    fr = config["model"].get("fuse_res", 16)
    px = config.get("data", {}).get("image_size", "?")
    text = f"""# lift3d default model — model card

**Task**: one or more RGB(A) images of an object -> 32^3 occupancy grid in the canonical object frame
(centred, fits [-0.5, 0.5]^3, +Y up) -> mesh by marching cubes.

**Architecture**: `{enc.get('name', 'resnet')}`-{enc.get('depth', '')} image encoder ({px} px input), per-view 3D
transposed-convolution decoder to {fr}^3, multi-view fusion ({config['model'].get('fusion')}) at {fr}^3, shared
decoder stage to 16^3, sub-pixel 3D head to 32^3, 3D U-Net refiner. Same weights for 1..N views. Stored as
float16 safetensors.

**Training data**: procedural shapes from `lift3d.data.shapes` (10 categories), rendered headless by
`lift3d data generate` (`{data}`), split **by shape** 80/10/10 (seed {config['seed']}), ground truth as
{voxels}. No third-party data.

**Reproduce**: `make weights` (= `scripts/make_weights.sh`: data generation, `lift3d train configs/default.yaml`,
`benchmarks/bench_quality.py`). Seed {config['seed']}, 2 CPU cores.

**Training**: {training}

**Limitations**: trained only on synthetic procedural shapes with simple shading; real photos of other object
kinds reconstruct as the nearest shape family it knows. Output is 32^3 (a cell is 3% of the object): thin parts
come out one or two cells thick, or are missed. The object must be separable from the background (alpha,
plain colour, or --mask).

{report}
"""
    write_text_atomic(path, text)
