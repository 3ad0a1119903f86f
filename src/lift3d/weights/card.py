"""Write the model card of the shipped weights: data, command, seed, metrics on held-out shapes."""

from __future__ import annotations

import json
import os

from lift3d.io.atomic import write_text_atomic


def write_model_card(path: str | os.PathLike, config: dict, meta: dict, report: str, data: str,
                     voxel_mode: str = "tight", command: str = "make weights") -> None:
    """``report``: the markdown of held-out metrics (``benchmarks/bench_quality.py`` for the voxel model,
    ``benchmarks/install_weights.py`` for the others); ``voxel_mode``: the dataset's; ``command``: what reproduces
    the weights. The task and architecture paragraphs come from the model class (``describe(config)``)."""
    from lift3d.geometry.voxels import VOXEL_CONVENTIONS
    from lift3d.models.registry import MODELS

    model_cls = MODELS.get(config["model"]["name"])
    voxels = VOXEL_CONVENTIONS[voxel_mode]
    t, o, d = config["train"], config["optim"], config["data"]
    val = {k: round(v, 4) for k, v in meta.items() if k.startswith("val_") and isinstance(v, float)}
    training = (
        f"epoch {meta.get('epoch')} of {t['epochs']} (budget {t.get('max_minutes')} min), optimiser {o['name']} "
        f"lr {o.get('lr')}, {config['schedule']['name']} schedule, batch {d['batch_size']}, 1..{d['max_views']} views "
        f"per batch. Validation at selection: {json.dumps(val)}; threshold {meta.get('threshold')}."
    )
    text = f"""# lift3d {config['model']['name']} model — model card

{model_cls.describe(config)} Same weights for 1..N views. Stored as float16 safetensors.

**Training data**: {_data_line(data)}, split **by shape** 80/10/10 (seed {config['seed']}), ground truth as
{voxels}. No third-party data.

**Reproduce**: `{command}`. Seed {config['seed']}, 2 CPU cores.

**Training**: {training}

**Limitations**: trained only on synthetic procedural shapes (rendered with randomised textures, materials and
lights when the data's look is `random`); real photos of other object kinds reconstruct as the nearest shape
family it knows. Single images give no camera: the output is in the
canonical object frame. The object must be separable from the background (alpha, plain colour, or --mask).

{report}
"""
    write_text_atomic(path, text)


def _data_line(data: str) -> str:
    """What the dataset folder ``data`` holds, from its manifest (families, look), for the card."""
    from lift3d.data.dataset import read_manifest
    from lift3d.errors import DatasetError

    try:
        m = read_manifest(data)
    except DatasetError:
        return f"the dataset in `{data}`"
    look = m.get("appearance", "plain")
    return (f"{len(m['shapes'])} procedural shapes from `lift3d.data.shapes` in {len(m['categories'])} families "
            f"({', '.join(m['categories'])}) x {m['views']} views, rendered headless by `lift3d data generate` "
            f"(`{data}`) in the `{look}` look")
