"""The live pooling's near-duplicate gate, calibrated: RMS style distances per dimension (the faces model) between
a photo as a webcam frame and the same photo one frame later (new sensor noise, shifted 3 px, JPEG again), and
between a photo and its nearest other photo of the same person, both as camera-like 640 x 480 frames
(``tests.demo_page.camera_frame``). ``demo.computing.live_pooling.NEAR_DUPLICATE`` must lie between the two.

    python -m benchmarks.live_gate                            # CelebA and LFW people from $MLVAE_DATA_DIR
    python -m benchmarks.live_gate --people 20 --model checkpoints/faces

Prints the percentiles (0, 5, 50, 95, 100) of both and the fraction of each side of the gate.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import torch

from demo.computing.live_pooling import NEAR_DUPLICATE
from demo.inputs.preparation import prepare_opened
from demo.models import load_one
from mlvae import DataError, latent
from tests.demo_page import camera_frame


def style_of(m, frame) -> torch.Tensor | None:
    """The style mean (d,) of a frame's face, None when no face is found."""
    try:
        x, _ = prepare_opened(frame, m.preparation, "frame")
    except DataError:
        return None
    return latent.encode(m.model, x.unsqueeze(0)).style.mean[0]


def distances(m, folder: Path, people: int, photos: int) -> tuple[list[float], list[float]]:
    """(same view one frame later, nearest other photo of the same person), over the last ``people`` of ``folder``."""
    again, other = [], []
    for person in sorted(p for p in folder.iterdir() if p.is_dir())[-people:]:
        codes = []
        for k, photo in enumerate(sorted(person.iterdir())[:photos]):
            first = style_of(m, camera_frame(photo, seed=k))
            later = style_of(m, camera_frame(photo, seed=1000 + k, shift=3))
            if first is None or later is None:
                continue
            again.append(float((first - later).pow(2).mean().sqrt()))
            codes.append(first)
        for i, code in enumerate(codes):
            rest = [float((code - c).pow(2).mean().sqrt()) for j, c in enumerate(codes) if j != i]
            if rest and min(rest) > 0.2:  # a copy of the same photo in the dataset is not another photo
                other.append(min(rest))
    return again, other


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="checkpoints/faces", help="a faces checkpoint (default: the shipped one)")
    parser.add_argument("--people", type=int, default=12, help="people per dataset (default 12)")
    parser.add_argument("--photos", type=int, default=8, help="photos per person (default 8)")
    args = parser.parse_args()
    data = os.environ.get("MLVAE_DATA_DIR")
    if not data:
        raise SystemExit("set MLVAE_DATA_DIR to the folder holding faces-celeba200/ and faces-lfw/")
    torch.set_num_threads(1)
    m = load_one(args.model)
    print(f"gate: {NEAR_DUPLICATE} (RMS style distance per dimension; a frame nearer than this to a pooled one is "
          "skipped)")
    for name in ("faces-celeba200", "faces-lfw"):
        again, other = distances(m, Path(data) / name, args.people, args.photos)
        q = lambda v: " ".join(f"{x:.2f}" for x in np.percentile(v, [0, 5, 50, 95, 100]))  # noqa: E731
        skipped, pooled = np.mean(np.array(again) < NEAR_DUPLICATE), np.mean(np.array(other) >= NEAR_DUPLICATE)
        print(f"{name}: same view again ({len(again)}): {q(again)}; skipped {skipped:.0%}")
        print(f"{name}: nearest other photo ({len(other)}): {q(other)}; pooled {pooled:.0%}")


if __name__ == "__main__":
    main()
