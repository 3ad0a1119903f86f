#!/usr/bin/env bash
# Generate the shipped models' data (resumable; re-running skips finished shapes):
#   $DATA        training data: every family, photo-like randomised appearance (train/val/test split by shape)
#   $DATA-plain  the same test shapes in the plain look (flat colours, one light, 40 degree lens)
#   $DATA-shift  the same test shapes in a look no training image has (the appearance-shift test)
set -euo pipefail
cd "$(dirname "$0")/.."
LIFT3D=${LIFT3D:-.venv/bin/lift3d}
DATA=${DATA:-data/default}
COMMON=(--shapes-per-category "${SHAPES:-150}" --views "${VIEWS:-12}" --seed "${SEED:-0}" --workers 2)

$LIFT3D data generate "${COMMON[@]}" --out "$DATA" --appearance random
$LIFT3D data generate "${COMMON[@]}" --out "$DATA-plain" --appearance plain --only-split test
$LIFT3D data generate "${COMMON[@]}" --out "$DATA-shift" --appearance shift --only-split test
