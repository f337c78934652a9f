"""SVI's cost against amortised inference (the ML-VAE), on real MNIST, measured in one run.

Training: the same images, batches, seed and epochs for both, through the project's own trainers; seconds
per training epoch and the validation ELBO per image after each epoch (SVI's after test-time inference).
Test time: the wall time to encode the same new test images, ML-VAE (one encoder pass) versus SVI
(``--inference-steps`` Adam steps with the decoder frozen), and the ELBO per image each reaches.

  python -m benchmarks.svi_cost                       # about 2 minutes on one CPU core
  python -m benchmarks.svi_cost --epochs 20 --train-images 50000 --test-images 10000
"""
from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path

import torch

from mlvae.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from mlvae.data import load_splits
from mlvae.data.images import to_float
from mlvae.model.ml_vae import MLVAE
from mlvae.model.objective import group_elbo_from_posteriors
from mlvae.model.posterior import DiagonalNormal
from mlvae.training.trainer_types import trainer_class

LABELS = {"mlvae": "ML-VAE", "svi": "SVI"}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train-images", type=int, default=10000, help="training images (default: 10000)")
    p.add_argument("--val-images", type=int, default=500, help="validation images per epoch (default: 500)")
    p.add_argument("--epochs", type=int, default=5, help="training epochs of each model (default: 5)")
    p.add_argument("--test-images", type=int, default=1000, help="new images encoded at test time (default: 1000)")
    p.add_argument("--inference-steps", type=int, default=ModelConfig.inference_steps,
                   help=f"SVI test-time Adam steps (default: {ModelConfig.inference_steps})")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    return p.parse_args()


def train(model_type: str, args: argparse.Namespace, splits, out: Path) -> tuple[MLVAE, list[dict]]:
    """Train one model with the project's trainer; its model and per-epoch metrics."""
    config = RunConfig(
        model=ModelConfig(model_type=model_type, inference_steps=args.inference_steps),
        data=DataConfig(),
        train=TrainConfig(epochs=args.epochs, max_train_images=args.train_images, max_val_images=args.val_images,
                          num_threads=args.threads, device=args.device),
    )
    trainer = trainer_class(model_type)(config, splits, out / model_type)
    trainer.fit()
    metrics = [json.loads(line) for line in (out / model_type / "metrics.jsonl").read_text().splitlines()]
    return trainer.module.eval(), metrics


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median wall time of ``fn()`` over ``repeats`` runs, and its last result."""
    times, result = [], None
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        result = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


@torch.no_grad()
def elbo_per_image(model: MLVAE, x: torch.Tensor, style: DiagonalNormal, content: DiagonalNormal) -> float:
    """ELBO per image, every image its own group, averaged over 4 fixed noise draws."""
    own = torch.arange(x.shape[0], device=x.device)
    gen = torch.Generator(x.device).manual_seed(123)
    return statistics.mean(group_elbo_from_posteriors(model, x, style, content, own, gen).elbo.mean().item()
                           for _ in range(4))


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    splits = load_splits(DataConfig())
    with tempfile.TemporaryDirectory() as tmp:
        models, metrics = {}, {}
        for name in ("mlvae", "svi"):
            models[name], metrics[name] = train(name, args, splits, Path(tmp))

    print(f"\nTraining: {args.train_images} MNIST images, {args.epochs} epochs, {args.threads} thread(s), "
          f"{args.device}")
    sec = {name: [args.train_images / m["train_images_per_s"] for m in metrics[name]] for name in models}
    print(f"{'epoch':>5} | {'ML-VAE s':>8} {'val ELBO/img':>12} | {'SVI s':>8} {'val ELBO/img':>12}")
    for e in range(args.epochs):
        print(f"{e + 1:>5} | {sec['mlvae'][e]:8.2f} {metrics['mlvae'][e]['val_elbo_per_image']:12.1f} | "
              f"{sec['svi'][e]:8.2f} {metrics['svi'][e]['val_elbo_per_image']:12.1f}")
    per_epoch = {name: statistics.median(s) for name, s in sec.items()}
    print(f"seconds per training epoch: ML-VAE {per_epoch['mlvae']:.2f}, SVI {per_epoch['svi']:.2f} "
          f"(SVI / ML-VAE = {per_epoch['svi'] / per_epoch['mlvae']:.2f})")
    for name, other in (("svi", "mlvae"), ("mlvae", "svi")):  # epochs each needs to match the other's final ELBO
        final = metrics[other][-1]["val_elbo_per_image"]
        reached = [m["epoch"] for m in metrics[name] if m["val_elbo_per_image"] >= final]
        print(f"{LABELS[name]} epochs to reach {LABELS[other]}'s ELBO after {args.epochs} epochs ({final:.1f}/image): "
              + (str(reached[0]) if reached else f"more than {args.epochs}"))

    device = torch.device(args.device)
    x = to_float(splits.test.images[: args.test_images]).to(device)
    ml, svi = models["mlvae"], models["svi"]
    with torch.no_grad():
        t_ml, enc_ml = timed(lambda: ml.encode(x), repeats=5)
    t_svi, enc_svi = timed(lambda: svi.encode(x), repeats=1)
    print(f"\nTest time: encoding {x.shape[0]} new test images (each its own group)")
    ml_elbo = elbo_per_image(ml, x, enc_ml.style, enc_ml.content)
    print(f"ML-VAE amortised encoder: {t_ml * 1e3:9.1f} ms   ELBO/image {ml_elbo:8.1f}")
    print(f"SVI, {svi.config.inference_steps} inference steps: {t_svi * 1e3:9.1f} ms   "
          f"ELBO/image {elbo_per_image(svi, x, enc_svi.style, enc_svi.content):8.1f}")
    print(f"test-time cost ratio SVI / ML-VAE = {t_svi / t_ml:.0f}x")


if __name__ == "__main__":
    main()
