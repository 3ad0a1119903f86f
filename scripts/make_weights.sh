#!/usr/bin/env bash
# Reproduce the shipped default weights from scratch on CPU (2 cores, <= 60 minutes):
#   1. generate the procedural paired 2D/3D dataset (split by shape) and its plain/shift test sets (make_data.sh),
#   2. train configs/default.yaml,
#   3. evaluate on the held-out test shapes with the baselines and under the appearance shift, write the card,
#   4. copy the final checkpoint into src/lift3d/weights/.
# Every step is resumable: re-running skips finished shapes and resumes training from the last checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
LIFT3D=${LIFT3D:-.venv/bin/lift3d}
DATA=${DATA:-data/default}
RUN=${RUN:-runs/default}

DATA="$DATA" LIFT3D="$LIFT3D" bash scripts/make_data.sh
$LIFT3D train configs/default.yaml --data "$DATA" --out "$RUN" --resume
$PY benchmarks/bench_quality.py --checkpoint "$RUN/final.safetensors" --data "$DATA" --out docs/results_quality.md \
    --json docs/results_quality.json --card src/lift3d/weights/MODEL_CARD.md --install-to src/lift3d/weights/default.safetensors
$PY benchmarks/bench_appearance.py --checkpoint src/lift3d/weights/default.safetensors \
    --set photo="$DATA" --set plain="$DATA-plain" --set shift="$DATA-shift"
$PY benchmarks/bench_reconstruct.py
$PY benchmarks/write_results.py
