#!/usr/bin/env bash
# A rung of the faces code-size ladder (checkpoints/faces/README.md, "Code size: the ladder against a linear code"):
# train it from scratch on the CPU (an interrupted run resumes), or judge a checkpoint as the card's rungs are judged.
#   MLVAE_DATA_DIR=/path/to/data bash scripts/faces_code_ladder.sh train D [paper|resize] [EPOCHS] [THREADS]
#   MLVAE_DATA_DIR=/path/to/data bash scripts/faces_code_ladder.sh judge CHECKPOINT [OUT] [THREADS]
# train: the shipped paper-exact recipe (x0.25, style d = 8, sigma 0.1, weight average 0.999) with content d = D, into
#   runs/faces-dD-<decoder>; "resize" adds the labelled decoder departures (resize-then-convolve upsampling, a residual
#   block at 32x32 and 64x64, content log-variance bound 10). About 45 s an epoch for D = 256 on one free CPU core.
# judge: 400 identity trials per collection, the decoder's range (latents fitted by 300 Adam steps), the linear code of
#   the model's size, the code's usage (code_usage.json) and decoded-only figures, into OUT (default runs/eval/<name>).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${MLVAE_DATA_DIR:?set MLVAE_DATA_DIR to the folder holding faces-celeba200/ and faces-lfw/}"
usage() { sed -n 4,5p "$0" >&2; exit 2; }
case "${1:-}" in
  train)
    [ $# -ge 2 ] || usage
    D="$2"; DECODER="${3:-paper}"; EPOCHS="${4:-300}"; THREADS="${5:-1}"
    case "$DECODER" in
      paper) EXTRA=() ;;
      resize) EXTRA=(--upsampling resize --decoder-res-blocks 1 --content-logvar-bound 10) ;;
      *) echo "decoder: paper or resize, not $DECODER" >&2; exit 2 ;;
    esac
    OUT="runs/faces-d$D-$DECODER"
    RESUME=(); [ -f "$OUT/last/trainer_state.json" ] && RESUME=(--resume)
    python -m mlvae.train --dataset folder --data-dir "$DATA/faces-celeba200" --data-dir "$DATA/faces-lfw" \
      --align-faces --width 0.25 --latent-dim "$D" --style-dim 8 --likelihood normal-fixed --sigma 0.1 --flip \
      --min-group-size 2 --max-group-size 10 --max-images-per-group 30 --groups-per-batch 16 --ema-decay 0.999 \
      "${EXTRA[@]}" --threads "$THREADS" --epochs "$EPOCHS" --out "$OUT" "${RESUME[@]}"
    ;;
  judge)
    [ $# -ge 2 ] || usage
    CKPT="$2"; OUT="${3:-}"; THREADS="${4:-1}"
    python -m mlvae.evaluate "$CKPT" --identity-only --identity-trials 400 --identity-fit-steps 300 --decoded-only \
      --threads "$THREADS" ${OUT:+--out "$OUT"}
    ;;
  *) usage ;;
esac
