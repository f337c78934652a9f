"""Training throughput: the vectorised group ELBO against a literal per-group loop of the paper's Algorithm 1,
for both networks, in the same run; and whole-epoch throughput of ``python -m mlvae.train`` on MNIST.

    python -m benchmarks.train_throughput                # everything (needs MNIST for the end-to-end part)
    python -m benchmarks.train_throughput --skip-epoch   # only the step benchmark

Prints samples per second and the vectorised/loop ratio. Figures vary with machine load: compare ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from mlvae import MLVAE, ModelConfig, group_elbo
from mlvae.model.reference import group_elbo_loop


def make_batch(config: ModelConfig, groups: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random images and group ids of ``groups`` groups with sizes 2..10 (the loop needs 2+ for BatchNorm)."""
    gen = torch.Generator().manual_seed(seed)
    sizes = torch.randint(2, 11, (groups,), generator=gen)
    ids = torch.repeat_interleave(torch.arange(groups), sizes)
    x = torch.rand((len(ids), config.image_channels, config.image_size, config.image_size), generator=gen)
    return x, ids


def time_steps(model: MLVAE, loss_fn, x: torch.Tensor, ids: torch.Tensor, repeats: int) -> float:
    """Median seconds of one optimiser step (forward, backward, Adam)."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        loss = loss_fn(model, x, ids)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i:  # the first step warms up allocators and kernels
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def step_benchmark(name: str, config: ModelConfig, groups: int, repeats: int) -> dict:
    torch.manual_seed(0)
    model = MLVAE(config)
    if config.architecture == "conv":
        model = model.to(memory_format=torch.channels_last)
    x, ids = make_batch(config, groups)
    if config.architecture == "conv":
        x = x.contiguous(memory_format=torch.channels_last)
    vec = time_steps(model, lambda m, x, g: group_elbo(m, x, g, groups).loss, x, ids, repeats)
    loop = time_steps(model, lambda m, x, g: group_elbo_loop(m, x, g), x, ids, repeats)
    return {"network": name, "groups": groups, "images": len(ids), "vectorised_samples_per_s": len(ids) / vec,
            "loop_samples_per_s": len(ids) / loop, "speedup": loop / vec}


def epoch_benchmark(epochs: int, threads: int | None) -> dict:
    """Run ``python -m mlvae.train`` on MNIST and read its own per-epoch throughput."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "mlvae.train", "--dataset", "mnist", "--epochs", str(epochs), "--out", tmp + "/run"]
        if threads:
            cmd += ["--threads", str(threads)]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(done.stderr[-2000:])
        rows = [json.loads(line) for line in Path(tmp, "run", "metrics.jsonl").read_text().splitlines()]
    per_epoch = [r["train_images_per_s"] for r in rows]
    return {"epochs": epochs, "train_images_per_s_per_epoch": per_epoch, "best_epoch_images_per_s": max(per_epoch),
            "wall_s_including_startup_and_validation": wall, "images_per_s_including_everything": 50000 * epochs / wall}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--groups", type=int, default=64, help="groups per batch (default: 64)")
    p.add_argument("--repeats", type=int, default=5, help="timed steps per variant (default: 5)")
    p.add_argument("--conv-width", type=float, default=0.25, help="conv net width multiplier (default: 0.25)")
    p.add_argument("--epochs", type=int, default=2, help="epochs of the end-to-end MNIST run (default: 2)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    p.add_argument("--skip-epoch", action="store_true", help="skip the end-to-end MNIST run")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores")
    nets = {
        "mnist-mlp": ModelConfig(),
        f"conv64-w{args.conv_width}": ModelConfig(architecture="conv", image_size=64, image_channels=3, latent_dim=50,
                                                  width=args.conv_width),
    }
    print(f"\none optimiser step, {args.groups} groups of 2-10 images (median of {args.repeats}):")
    print(f"{'network':<16}{'images':>8}{'vectorised/s':>15}{'loop/s':>12}{'speedup':>10}")
    for name, config in nets.items():
        r = step_benchmark(name, config, args.groups, args.repeats)
        print(f"{name:<16}{r['images']:>8}{r['vectorised_samples_per_s']:>15.0f}{r['loop_samples_per_s']:>12.0f}{r['speedup']:>9.1f}x")
    if not args.skip_epoch:
        r = epoch_benchmark(args.epochs, args.threads)
        print(f"\npython -m mlvae.train --dataset mnist, {args.epochs} epochs of 50,000 images (data loading included):")
        print("  training images/s per epoch: " + ", ".join(f"{v:.0f}" for v in r["train_images_per_s_per_epoch"]))
        print(f"  whole command incl. startup, data loading and validation: {r['wall_s_including_startup_and_validation']:.1f} s"
              f" = {r['images_per_s_including_everything']:.0f} training images/s")


if __name__ == "__main__":
    main()
