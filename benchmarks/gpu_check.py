"""GPU check: the CUDA, bf16-autocast and NCCL paths of training, run for real on a CUDA machine.

    python -m benchmarks.gpu_check --data-dir $MLVAE_DATA_DIR/faces-celeba200        # on a CUDA machine, < 5 min
    python -m benchmarks.gpu_check --dry-run                                           # anywhere: one CPU step

On CUDA it trains the faces network at full width (1.0) with bf16 autocast for ``--steps`` optimiser steps on
aligned face photos through the project's own Trainer, then prints images/s and peak GPU memory, checks that
the loss fell, that the checkpoint it wrote loads on the CPU and decodes the same images within bf16 tolerance,
and, when two or more GPUs exist, runs a two-rank NCCL training step under torchrun. ``--dry-run`` builds the
same model on the CPU and runs one step on random images (what the test suite runs).
Exit status 0 only when every check passed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from mlvae import latent, load_model
from mlvae.config import DataConfig, ModelConfig, RunConfig, TrainConfig, data_dir_list, stored_data_dir
from mlvae.data import GroupBatchSampler, GroupedImages, Splits, load_splits
from mlvae.training.trainer import Trainer

BF16_TOLERANCE = 0.06  # max |difference| of decoded pixels in [0, 1], bf16 autocast on GPU vs float32 on CPU


def faces_config(data_dir: str | None, device: str, steps: int, width: float) -> RunConfig:
    """The faces training setup at ``width``, for ``steps`` steps on ``device``."""
    return RunConfig(
        model=ModelConfig(architecture="conv", latent_dim=50, style_dim=8,
                          width=width, likelihood="normal-fixed", sigma=0.1),
        data=DataConfig(dataset="folder", data_dir=data_dir, image_size=64, image_channels=3, align_faces=True,
                        val_fraction=0.1, test_fraction=0.1),
        train=TrainConfig(epochs=1000, groups_per_batch=32, min_group_size=2, max_group_size=10, device=device,
                          max_steps=steps, flip=True, max_images_per_group=30),
    )


def random_splits(count: int = 64, groups: int = 8) -> Splits:
    """Random uint8 images in ``groups`` groups, as train and validation (the dry run needs no data)."""
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (count, 3, 64, 64), generator=gen, dtype=torch.uint8)
    data = GroupedImages(images, torch.arange(count) % groups, [f"g{i}" for i in range(groups)])
    return Splits(data, data, data, {"dataset": "random"})


def train_steps(trainer: Trainer, steps: int) -> tuple[list[float], float]:
    """``steps`` optimiser steps; returns the losses and images per second after the first (warm-up) step."""
    losses, images, start = [], 0, None
    sampler: GroupBatchSampler = trainer.sampler
    epoch = 0
    while len(losses) < steps:
        sampler.set_epoch(epoch)
        for batch in sampler:
            losses.append(trainer.train_step(batch))
            if len(losses) == 1:
                if trainer.device.type == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
            else:
                images += batch.indices.numel()
            if len(losses) == steps:
                break
        epoch += 1
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start if start is not None else 0.0
    return losses, images / elapsed if elapsed > 0 else 0.0


def check(name: str, ok: bool, detail: str, failures: list[str]) -> None:
    print(f"[{'ok' if ok else 'FAIL'}] {name}: {detail}")
    if not ok:
        failures.append(name)


def nccl_two_ranks(data_dir: str, out: Path) -> tuple[bool, str]:
    """A two-rank torchrun training run of a few steps; (passed, last lines of its output)."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "mlvae.train",
           "--dataset", "folder", "--data-dir", data_dir, "--align-faces", "--width", "1.0", "--style-dim", "8",
           "--likelihood", "normal-fixed", "--min-group-size", "2", "--groups-per-batch", "16", "--epochs", "1",
           "--max-steps", "5", "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return done.returncode == 0 and (out / "last" / "model.safetensors").exists(), done.stderr[-800:]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", action="append", default=None,
                   help="face folder(s) of one subfolder per person (default: $MLVAE_DATA_DIR/faces-celeba200)")
    p.add_argument("--steps", type=int, default=300, help="optimiser steps on the GPU (default: 300)")
    p.add_argument("--width", type=float, default=1.0, help="conv width multiplier (default: 1.0, the paper's)")
    p.add_argument("--dry-run", action="store_true", help="no GPU needed: build the model and run one CPU step")
    args = p.parse_args(argv)
    failures: list[str] = []
    print(f"torch {torch.__version__}; CUDA available: {torch.cuda.is_available()}; "
          f"GPUs: {torch.cuda.device_count() if torch.cuda.is_available() else 0}")

    if args.dry_run:
        config = faces_config(None, "cpu", 1, args.width)
        with tempfile.TemporaryDirectory() as tmp:
            trainer = Trainer(config, random_splits(), tmp)
            losses, _ = train_steps(trainer, 1)
        params = sum(p.numel() for p in trainer.module.parameters())
        check("cpu step", len(losses) == 1 and torch.isfinite(torch.tensor(losses[0])).item(),
              f"width {args.width}: {params / 1e6:.1f} M parameters, loss {losses[0]:.1f}", failures)
        return 1 if failures else 0

    if not torch.cuda.is_available():
        print("no CUDA device: run this on a GPU machine, or pass --dry-run")
        return 2
    data_dir = args.data_dir or [str(Path(os.environ.get("MLVAE_DATA_DIR", "../shared/data")) / "faces-celeba200")]
    data_dir = stored_data_dir(data_dir)
    config = faces_config(data_dir, "cuda", args.steps, args.width)
    start = time.perf_counter()
    splits = load_splits(config.data)
    print(f"data: {len(splits.train)} train images, aligned in {time.perf_counter() - start:.0f} s")
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(config, splits, tmp)
        torch.cuda.reset_peak_memory_stats()
        losses, per_s = train_steps(trainer, args.steps)
        memory = torch.cuda.max_memory_allocated() / 2**30
        print(f"{args.steps} steps at width {args.width} with bf16 autocast: {per_s:.0f} images/s, "
              f"peak GPU memory {memory:.2f} GiB, {torch.cuda.get_device_name()}")
        tenth = max(1, args.steps // 10)
        first, last = statistics.mean(losses[:tenth]), statistics.mean(losses[-tenth:])
        check("loss falls", last < first, f"mean of the first {tenth} steps {first:.0f}, of the last {last:.0f}",
              failures)
        trainer.save_best()
        cpu_model, _ = load_model(Path(tmp) / "best", "cpu")
        x = splits.val.images[:64]
        gpu_model = trainer.module.eval()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            on_gpu = latent.reconstruct(gpu_model, x.cuda().float() / 255).float().cpu()
        on_cpu = latent.reconstruct(cpu_model, x.float() / 255)
        gap = (on_gpu - on_cpu).abs().max().item()
        check("checkpoint loads on the CPU", gap < BF16_TOLERANCE,
              f"decoded pixels differ by at most {gap:.4f} (bf16 tolerance {BF16_TOLERANCE})", failures)
        if torch.cuda.device_count() >= 2:
            ok, tail = nccl_two_ranks(data_dir_list(data_dir)[0], Path(tmp) / "ddp")
            detail = "torchrun --nproc_per_node 2, 5 steps" + ("" if ok else f"\n{tail}")
            check("two-rank NCCL step", ok, detail, failures)
        else:
            print("[skip] two-rank NCCL step: only one GPU")
    outcome = "all checks passed" if not failures else f"FAILED: {failures}"
    print(f"total {time.perf_counter() - start:.0f} s; {outcome}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
