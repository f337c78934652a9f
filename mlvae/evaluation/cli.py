"""``python -m mlvae.evaluate`` / ``mlvae-evaluate``: the paper's experiments on a trained checkpoint.

Examples:
  python -m mlvae.evaluate runs/mnist --baseline runs/mnist-vae --out runs/mnist/eval
  python -m mlvae.evaluate runs/faces --out runs/faces/eval
  python -m mlvae.evaluate faces --identity \
      --data-dir $MLVAE_DATA_DIR/faces-celeba200 --data-dir $MLVAE_DATA_DIR/faces-lfw
  python -m mlvae.evaluate faces --data-dir my_people/ --all-groups --out eval-mine   # other people, all unseen
  python -m mlvae.evaluate runs/mnist --quick --out /tmp/eval     # seconds: a smoke run
"""
from __future__ import annotations

import argparse
import logging
import sys

import torch

from mlvae.errors import MLVAEError, exit_code_of
from mlvae.evaluation.config import EvaluationConfig
from mlvae.evaluation.run import FILES, evaluate
from mlvae.flags import add_flags, values_for

log = logging.getLogger("mlvae.evaluate")


def build_parser() -> argparse.ArgumentParser:
    """The CLI, generated from ``EvaluationConfig``; defaults reproduce the paper's evaluation in minutes on a
    CPU for MNIST."""
    p = argparse.ArgumentParser(
        prog="python -m mlvae.evaluate",
        description="Evaluate a trained ML-VAE (or baseline) on its test images: swap, interpolation, generation "
        "and pooling figures, and the supplement §3 classifier table on style S and content C against k pooled "
        "images; everything lands in --out with a report.md.",
        epilog="examples:" + __doc__.split("Examples:")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_flags(p, EvaluationConfig, {})
    return p


def config_from_args(args: argparse.Namespace) -> EvaluationConfig:
    """The evaluation the parsed flags ask for (ValueError naming the flag when a value is out of range)."""
    return EvaluationConfig(**values_for(EvaluationConfig, args))


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    if config.threads:
        torch.set_num_threads(config.threads)
    try:
        out = evaluate(config)
    except (MLVAEError, OSError, KeyboardInterrupt) as exc:
        return exit_code_of(exc, log, "interrupted: the files already written in the output folder are complete; "
                                      "re-run to redo")
    log.info("done: %s", out / FILES["report"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
