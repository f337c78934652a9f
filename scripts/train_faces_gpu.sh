#!/usr/bin/env bash
# Train the full-width (1.0) faces model on one CUDA GPU in a few minutes, then print the identity judge's table.
#   MLVAE_DATA_DIR=/path/to/data bash scripts/train_faces_gpu.sh [OUT] [EPOCHS] [CONTENT_D]
# Same data and levers as the shipped CPU model (checkpoints/faces/README.md), at the paper's full width and with
# 64 groups a batch; bf16 autocast is automatic on CUDA. Faces are aligned once and cached (~1-2 min). The content
# has 256 numbers by default: the code-size ladder of the faces card shows 58 numbers cannot hold a recognisable face.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${MLVAE_DATA_DIR:?set MLVAE_DATA_DIR to the folder holding faces-celeba200/ and faces-lfw/}"
OUT="${1:-runs/faces-gpu-w1}"
EPOCHS="${2:-60}"
CONTENT_D="${3:-256}"
python -m mlvae.train --dataset folder --data-dir "$DATA/faces-celeba200" --data-dir "$DATA/faces-lfw" --align-faces \
  --width 1.0 --latent-dim "$CONTENT_D" --style-dim 8 --likelihood normal-fixed --sigma 0.1 --flip \
  --min-group-size 2 --max-group-size 10 --max-images-per-group 30 --groups-per-batch 64 \
  --ema-decay 0.999 --epochs "$EPOCHS" --device cuda --out "$OUT"
python -m mlvae.evaluate "$OUT" --identity-only --identity-fit-steps 300 --decoded-only --device cuda --out "$OUT/eval"
