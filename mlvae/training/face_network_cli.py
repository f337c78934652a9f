"""``python -m mlvae.face_features RUN_OR_CHECKPOINT --out FOLDER``: a face network for ``--feature-net``.

It reads the run's (or checkpoint's) data settings and ``split.json``, loads the same split of people, and trains
an identity classifier (``mlvae.training.face_network``) on the **training people only**.

Example:
  python -m mlvae.face_features faces --out runs/face-features   # the shipped faces model's split
"""
from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path

import torch

from mlvae.checkpoint.folder import find_split, read_config, resolve_checkpoint
from mlvae.data import load_splits
from mlvae.errors import MLVAEError, exit_code_of
from mlvae.training.face_network import FaceFeatureConfig, people_of, save_face_features, train_face_features
from mlvae.training.state import check_output_folder

OUT_BYTES = 64 << 20  # the net's weights (a few MB) and its record, with a margin

log = logging.getLogger("mlvae.face_features")


def build_parser() -> argparse.ArgumentParser:
    """The command's flags."""
    parser = argparse.ArgumentParser(
        prog="python -m mlvae.face_features", description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog="Example:\n" + __doc__.split("Example:\n")[1])
    parser.add_argument("checkpoint", metavar="RUN_OR_CHECKPOINT",
                        help="the run or checkpoint whose split of people the net follows (its training people only)")
    parser.add_argument("--out", required=True, help="folder for face_features.safetensors and face_features.json")
    parser.add_argument("--data-dir", action="append", default=None,
                        help="where the run's data folders are (default: as its config records them, relative names "
                             "under $MLVAE_DATA_DIR); repeat for several")
    parser.add_argument("--epochs", type=int, default=FaceFeatureConfig.epochs, help="training epochs (default: 15)")
    parser.add_argument("--lr", type=float, default=FaceFeatureConfig.lr, help="Adam learning rate (default: 1e-3)")
    parser.add_argument("--seed", type=int, default=0, help="makes the net reproducible (default: 0)")
    parser.add_argument("--margin", type=float, default=0.0,
                        help="additive cosine margin on the true person (CosFace; e.g. 0.35): people pushed further "
                             "apart in the embedding (default: 0, a plain cosine classifier)")
    parser.add_argument("--shift", type=int, default=0,
                        help="move each training photo by up to this many pixels at random (default: 0)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        if args.epochs < 1:
            raise MLVAEError(f"--epochs must be at least 1, got {args.epochs}")
        if not (math.isfinite(args.lr) and args.lr > 0):
            raise MLVAEError(f"--lr must be a positive number, got {args.lr}")
        if not 0.0 <= args.margin < 1.0:
            raise MLVAEError(f"--margin is a cosine margin in [0, 1), got {args.margin}")
        if not 0 <= args.shift <= 16:
            raise MLVAEError(f"--shift is a number of pixels from 0 to 16, got {args.shift}")
        if args.threads is not None and args.threads < 1:
            raise MLVAEError(f"--threads must be at least 1, got {args.threads}")
        check_output_folder(Path(args.out), needed_bytes=OUT_BYTES)  # before any work, not after training
        if args.threads:
            torch.set_num_threads(args.threads)
        folder = resolve_checkpoint(args.checkpoint)
        data = read_config(folder).data
        if data.dataset != "folder":
            raise MLVAEError(f"{args.checkpoint} was trained on {data.dataset}, not on folders of people")
        if args.data_dir:
            data = data.with_data_dirs(args.data_dir)
        splits = load_splits(data)
        recorded = find_split(folder)
        if recorded is not None and recorded.get("groups") != splits.record.get("groups"):
            raise MLVAEError(f"the data found split into other people than {args.checkpoint}'s split.json: give "
                             "the data folders it was trained on (--data-dir)")
        train, people = splits.train, people_of(splits.train)
        config = FaceFeatureConfig(people=len(people), channels=train.images.shape[1], epochs=args.epochs,
                                   lr=args.lr, seed=args.seed, margin=args.margin, shift=args.shift)
        log.info("training a face network on %d photos of %d training people", len(train), len(people))
        net = train_face_features(train, config)
        save_face_features(Path(args.out), net, config, people)
    except (MLVAEError, OSError, KeyboardInterrupt) as exc:
        return exit_code_of(exc, log, "interrupted: nothing was saved; run the command again")
    log.info("done: %s (use it with --feature-net %s --feature-weight W)", args.out, args.out)
    return 0
