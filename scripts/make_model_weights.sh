#!/usr/bin/env bash
# Reproduce the shipped weights of one model on the contract (points, occupancy) from scratch on CPU (2 cores,
# <= 60 minutes): the same procedural dataset as the voxel model (generated once, resumable), then
# `lift3d train configs/NAME.yaml` (time-budgeted, resumable), then the held-out evaluation, model card and install.
#   bash scripts/make_model_weights.sh occupancy
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=${1:?usage: make_model_weights.sh NAME (points | occupancy)}
PY=${PY:-.venv/bin/python}
LIFT3D=${LIFT3D:-.venv/bin/lift3d}
DATA=${DATA:-data/default}
RUN=${RUN:-runs/$NAME}

DATA="$DATA" LIFT3D="$LIFT3D" bash scripts/make_data.sh
$LIFT3D train "configs/$NAME.yaml" --data "$DATA" --out "$RUN" --resume
$PY benchmarks/install_weights.py --checkpoint "$RUN/final.safetensors" --data "$DATA"
