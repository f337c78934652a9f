"""Training throughput, in one run against the machine's own matmul throughput.

    python -m benchmarks.train_throughput --threads 1 --skip-epoch   # FLOPs, GFLOP/s and the matmul fraction
    python -m benchmarks.train_throughput --levers --threads 1       # each speed lever of the faces step, measured
    python -m benchmarks.train_throughput --faces-epoch 30           # + python -m mlvae.train over aligned faces

1. The vectorised group ELBO against a literal per-group loop of the paper's Algorithm 1, for both networks.
2. For the MNIST MLP and the faces conv net at widths 0.25 and 0.5: FLOPs per image of one optimiser step
   (forward and backward, counted by ``torch.utils.flop_counter``), the step's achieved GFLOP/s, and that as a
   fraction of a float32 matmul of similar size (the batch's rows times an n x n weight, n chosen so that one
   matmul does the step's FLOPs, at most 2048). The step is the trainer's own ``train_step`` (uint8 gather and
   conversion included) on random images; step and matmul are timed in alternating short blocks for several
   rounds and the medians reported, so that machine load hits both alike.
3. ``--levers``: each lever of the faces step (memory format, input conversion, in-place ReLU, Adam variants,
   batch size, ``torch.compile``) as its own variant, interleaved with the same matmul in the same rounds.
4. End-to-end: ``python -m mlvae.train`` on MNIST (``--epochs``) and on aligned, cached faces (``--faces-epoch``
   steps), its own per-epoch images/s as a fraction of the matmul timed just before and after it.

Figures vary with machine load: compare ratios, never absolute speeds alone.
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
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from mlvae import MLVAE, ModelConfig, group_elbo
from mlvae.config import DataConfig, RunConfig, TrainConfig
from mlvae.data import GroupedImages, Splits
from mlvae.data.sampler import GroupBatch
from mlvae.model.reference import group_elbo_loop
from mlvae.training.trainer import Trainer

MAX_MATMUL_SIDE = 2048
FACES_DATA = "faces-celeba200"  # under $MLVAE_DATA_DIR


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


def run_train_cli(flags: list[str], threads: int | None) -> tuple[list[dict], float, str]:
    """Run ``python -m mlvae.train`` with ``flags`` into a temporary --out: its metrics.jsonl rows, the wall seconds
    and the command as one line."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "mlvae.train", *flags, "--out", tmp + "/run"]
        if threads:
            cmd += ["--threads", str(threads)]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(done.stderr[-2000:])
        rows = [json.loads(line) for line in Path(tmp, "run", "metrics.jsonl").read_text().splitlines()]
    return rows, wall, " ".join(cmd[1:]).replace(tmp, "/tmp/...")


def epoch_benchmark(epochs: int, threads: int | None) -> dict:
    """Run ``python -m mlvae.train`` on MNIST and read its own per-epoch throughput."""
    rows, wall, _ = run_train_cli(["--dataset", "mnist", "--epochs", str(epochs)], threads)
    per_epoch = [r["train_images_per_s"] for r in rows]
    return {"epochs": epochs, "train_images_per_s_per_epoch": per_epoch, "best_epoch_images_per_s": max(per_epoch),
            "wall_s_including_startup_and_validation": wall, "images_per_s_including_everything": 50000 * epochs / wall}


def faces_model(width: float) -> ModelConfig:
    """The faces net as the faces model trains it (README): x``width`` conv, d=50, style 8, fixed-variance Normal."""
    return ModelConfig(architecture="conv", latent_dim=50, style_dim=8,
                       likelihood="normal-fixed", width=width)


def synthetic_trainer(model: ModelConfig, groups: int, seed: int = 0, **train: object) -> tuple[Trainer, GroupBatch]:
    """A Trainer on random uint8 images in groups of 10 (batches of ``groups`` groups of 2-10), and one batch."""
    gen = torch.Generator().manual_seed(seed)
    count = groups * 20
    images = torch.randint(0, 256, (count, model.image_channels, model.image_size, model.image_size),
                           generator=gen, dtype=torch.uint8)
    data = GroupedImages(images, torch.arange(count) // 10, [f"g{i}" for i in range(count // 10)])
    config = RunConfig(model=model, data=DataConfig(dataset="folder", image_size=model.image_size,
                                                    image_channels=model.image_channels),
                       train=TrainConfig(groups_per_batch=groups, min_group_size=2, max_group_size=10, seed=seed,
                                         **train))
    trainer = Trainer(config, Splits(data, data, data), out=tempfile.gettempdir())
    return trainer, next(iter(trainer.sampler))


def step_flops(step: Callable[[], object]) -> int:
    """FLOPs of one call of ``step`` (matmuls and convolutions, forward and backward) by FlopCounterMode."""
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def reference_matmul(rows: int, flops: float) -> tuple[Callable[[], object], float]:
    """A float32 (rows, n) @ (n, n) matmul of about ``flops`` (n at most MAX_MATMUL_SIDE), and its FLOPs."""
    n = int(min(MAX_MATMUL_SIDE, max(64, round((flops / (2 * rows)) ** 0.5 / 64) * 64)))
    a, b = torch.randn(rows, n), torch.randn(n, n)
    out = torch.empty(rows, n)
    return (lambda: torch.mm(a, b, out=out)), 2.0 * rows * n * n


def timed_block(fn: Callable[[], object], calls: int) -> tuple[float, float]:
    """Wall-clock and process CPU seconds per call over ``calls`` back-to-back calls."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - wall) / calls, (time.process_time() - cpu) / calls


def calls_for(fn: Callable[[], object], block_s: float) -> int:
    """How many calls of ``fn`` fill a block of about ``block_s`` seconds (after a warm-up call)."""
    timed_block(fn, 1)
    return max(1, round(block_s / timed_block(fn, 1)[0]))


def interleaved(variants: dict[str, tuple[Callable[[], object], float]], matmul: tuple[Callable[[], object], float],
                rounds: int, block_s: float) -> dict[str, dict[str, float]]:
    """Time each variant (step, FLOPs per step) and the matmul in alternating blocks, ``rounds`` times.

    Returns per variant the median seconds per step, its GFLOP/s and the matmul's, and the median over rounds
    of (variant GFLOP/s / GFLOP/s of the matmul block that followed it), by wall clock and by process CPU time
    (with one thread, CPU time does not count the time the core spent on other processes)."""
    mm, mm_flops = matmul
    mm_calls = calls_for(mm, block_s)
    calls = {name: calls_for(fn, block_s) for name, (fn, _) in variants.items()}
    seen: dict[str, dict[str, list[float]]] = {name: {k: [] for k in ("step", "mm", "ratio", "step_cpu", "mm_cpu",
                                                                     "ratio_cpu")} for name in variants}
    for _ in range(rounds):
        for name, (fn, flops) in variants.items():
            (step_s, step_cpu), (mm_s, mm_cpu) = timed_block(fn, calls[name]), timed_block(mm, mm_calls)
            for key, value in (("step", step_s), ("mm", mm_s), ("ratio", (flops / step_s) / (mm_flops / mm_s)),
                               ("step_cpu", step_cpu), ("mm_cpu", mm_cpu),
                               ("ratio_cpu", (flops / step_cpu) / (mm_flops / mm_cpu))):
                seen[name][key].append(value)
    out = {}
    for name, (_, flops) in variants.items():
        med = {key: statistics.median(values) for key, values in seen[name].items()}
        out[name] = {"step_s": med["step"], "gflops": flops / med["step"] / 1e9,
                     "matmul_gflops": mm_flops / med["mm"] / 1e9, "ratio": med["ratio"],
                     "step_cpu_s": med["step_cpu"], "cpu_gflops": flops / med["step_cpu"] / 1e9,
                     "matmul_cpu_gflops": mm_flops / med["mm_cpu"] / 1e9, "ratio_cpu": med["ratio_cpu"]}
    return out


def trainer_step(trainer: Trainer, batch: GroupBatch) -> Callable[[], float]:
    """The trainer's own optimiser step on ``batch`` (gather, uint8 conversion, forward, backward, Adam)."""
    return lambda: trainer.train_step(batch)


def flops_table(groups: int, rounds: int, block_s: float) -> dict[str, dict[str, float]]:
    """FLOPs per image, GFLOP/s and the fraction of matmul for the MLP and the faces net at widths 0.25 and 0.5."""
    nets = {"mnist-mlp": ModelConfig(), "faces-conv-w0.25": faces_model(0.25), "faces-conv-w0.5": faces_model(0.5)}
    results = {}
    for name, config in nets.items():
        trainer, batch = synthetic_trainer(config, groups)
        step = trainer_step(trainer, batch)
        flops = step_flops(step)
        images = batch.indices.numel()
        r = interleaved({name: (step, flops)}, reference_matmul(images, flops), rounds, block_s)[name]
        results[name] = {"images": images, "gflop_per_image": flops / images / 1e9, **r}
    return results


def print_flops_table(results: dict[str, dict[str, float]]) -> None:
    print(f"{'':<34}{'--- wall clock ---':>34}{'--- CPU time ---':>34}")
    print(f"{'network':<18}{'images':>7}{'GFLOP/img':>10}{'step ms':>9}{'GFLOP/s':>8}{'matmul':>8}{'ratio':>9}"
          f"{'step ms':>9}{'GFLOP/s':>8}{'matmul':>8}{'ratio':>9}")
    for name, r in results.items():
        print(f"{name:<18}{r['images']:>7}{r['gflop_per_image']:>10.4f}{_cells(r)}")


def _cells(r: dict[str, float]) -> str:
    return (f"{1000 * r['step_s']:>9.0f}{r['gflops']:>8.1f}{r['matmul_gflops']:>8.1f}{100 * r['ratio']:>8.0f}%"
            f"{1000 * r['step_cpu_s']:>9.0f}{r['cpu_gflops']:>8.1f}{r['matmul_cpu_gflops']:>8.1f}"
            f"{100 * r['ratio_cpu']:>8.0f}%")


def set_relu_inplace(model: nn.Module, inplace: bool) -> None:
    """Make every ReLU of ``model`` in place or not."""
    for module in model.modules():
        if isinstance(module, nn.ReLU):
            module.inplace = inplace


def lever_variants(width: float, groups: int, compile_too: bool,
                   only: list[str] | None = None) -> tuple[dict[str, tuple[Callable, float]], int]:
    """Each lever of the faces step at ``width`` as a variant (step, FLOPs per step), those whose names contain
    one of ``only`` if given; and the default's images."""
    config = faces_model(width)
    variants: dict[str, tuple[Callable, float]] = {}

    def add(name: str, trainer: Trainer, batch: GroupBatch) -> None:
        if variants and only and not any(word in name for word in only):
            return
        step = trainer_step(trainer, batch)
        variants[name] = (step, step_flops(step))

    trainer, batch = synthetic_trainer(config, groups)
    add("default (the trainer as shipped)", trainer, batch)
    images = batch.indices.numel()

    trainer, batch = synthetic_trainer(config, groups)
    trainer.memory_format = torch.contiguous_format
    trainer.model.to(memory_format=torch.contiguous_format)
    add("contiguous NCHW, not channels-last", trainer, batch)

    trainer, batch = synthetic_trainer(config, groups)
    floats = trainer._inputs(batch, trainer.train_data)
    trainer._inputs = lambda *_: floats  # the images already float and channels-last: no gather or conversion
    add("inputs pre-converted to float", trainer, batch)

    trainer, batch = synthetic_trainer(config, groups)
    trainer.train_data.images = trainer.train_data.images.contiguous(memory_format=torch.channels_last)
    add("uint8 store channels-last", trainer, batch)

    trainer, batch = synthetic_trainer(config, groups)
    set_relu_inplace(trainer.model, False)
    add("ReLU out of place", trainer, batch)

    for option in ("foreach", "fused"):
        trainer, batch = synthetic_trainer(config, groups)
        trainer.optimizer = torch.optim.Adam(trainer.model.parameters(), lr=1e-3, **{option: True})
        add(f"Adam {option}=True", trainer, batch)

    trainer, batch = synthetic_trainer(config, groups)
    zero_grad = trainer.optimizer.zero_grad
    trainer.optimizer.zero_grad = lambda set_to_none=True: zero_grad(set_to_none=False)
    add("zero_grad(set_to_none=False)", trainer, batch)

    for other in (groups // 4, groups // 2, groups * 2):
        trainer, batch = synthetic_trainer(config, other)
        add(f"{other} groups per batch ({batch.indices.numel()} images)", trainer, batch)

    if compile_too:
        trainer, batch = synthetic_trainer(config, groups, compile=True)
        step = trainer_step(trainer, batch)
        start = time.perf_counter()
        step()
        print(f"  (torch.compile: first step {time.perf_counter() - start:.0f} s)")
        variants["--compile"] = (step, variants["default (the trainer as shipped)"][1])
    return variants, images


def print_levers(width: float, results: dict[str, dict[str, float]]) -> None:
    base = results["default (the trainer as shipped)"]
    print(f"{'':<42}{'--- wall clock ---':>34}{'--- CPU time ---':>34}")
    print(f"{'faces conv w' + str(width):<42}{'step ms':>9}{'GFLOP/s':>8}{'matmul':>8}{'ratio':>9}"
          f"{'step ms':>9}{'GFLOP/s':>8}{'matmul':>8}{'ratio':>9}{'vs default (wall, CPU)':>24}")
    for name, r in results.items():
        print(f"  {name:<40}{_cells(r)}{r['ratio'] / base['ratio'] - 1:>+12.0%}"
              f"{r['ratio_cpu'] / base['ratio_cpu'] - 1:>+12.0%}")


def profile_table(width: float, groups: int, steps: int = 3, rows: int = 15) -> str:
    """``torch.profiler`` table by op (self CPU time) of ``steps`` trainer steps of the faces net at ``width``."""
    trainer, batch = synthetic_trainer(faces_model(width), groups)
    for _ in range(2):
        trainer.train_step(batch)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            trainer.train_step(batch)
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)


def faces_epoch_benchmark(steps: int, threads: int | None, width: float, rounds: int, block_s: float) -> dict:
    """``python -m mlvae.train`` over aligned, cached faces for ``steps`` steps: its training images/s, as a
    fraction of the matmul timed before and after it."""
    data_dir = Path(os.environ.get("MLVAE_DATA_DIR", "data")) / FACES_DATA
    trainer, batch = synthetic_trainer(faces_model(width), 64)
    step = trainer_step(trainer, batch)
    flops = step_flops(step)
    per_image = flops / batch.indices.numel()
    matmul = reference_matmul(batch.indices.numel(), flops)
    before = interleaved({"step": (step, flops)}, matmul, rounds, block_s)["step"]
    records, wall, command = run_train_cli(
        ["--dataset", "folder", "--data-dir", str(data_dir), "--align-faces", "--width", str(width), "--style-dim", "8",
         "--likelihood", "normal-fixed", "--max-steps", str(steps), "--max-val-images", "64"], threads)
    after = interleaved({"step": (step, flops)}, matmul, rounds, block_s)["step"]
    out = {"command": command, "wall_s": wall}
    images = sum(r["train_images"] for r in records)
    wall_per_s = images / sum(r["train_images"] / r["train_images_per_s"] for r in records)
    for clock, images_per_s in (("", wall_per_s), ("_cpu", images / sum(r["train_cpu_s"] for r in records))):
        matmul_gflops = statistics.median([before[f"matmul{clock}_gflops"], after[f"matmul{clock}_gflops"]])
        step_s = statistics.median([before[f"step{clock}_s"], after[f"step{clock}_s"]])
        out.update({f"images_per_s{clock}": images_per_s, f"matmul_gflops{clock}": matmul_gflops,
                    f"epoch_ratio{clock}": images_per_s * per_image / 1e9 / matmul_gflops,
                    f"step_ratio{clock}": statistics.median([before[f"ratio{clock}"], after[f"ratio{clock}"]]),
                    f"step_images_per_s{clock}": batch.indices.numel() / step_s})
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--groups", type=int, default=64, help="groups per batch (default: 64)")
    p.add_argument("--repeats", type=int, default=5, help="timed steps per variant of the loop comparison (default: 5)")
    p.add_argument("--conv-width", type=float, default=0.25, help="conv width of the loop comparison (default: 0.25)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds of step and matmul blocks (default: 5)")
    p.add_argument("--block-s", type=float, default=1.0, help="seconds per timed block (default: 1)")
    p.add_argument("--epochs", type=int, default=2, help="epochs of the end-to-end MNIST run (default: 2)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    p.add_argument("--skip-epoch", action="store_true", help="skip the end-to-end MNIST run")
    p.add_argument("--skip-loop", action="store_true", help="skip the vectorised-vs-loop comparison")
    p.add_argument("--skip-table", action="store_true", help="skip the GFLOP/s table")
    p.add_argument("--levers", action="store_true", help="only: each speed lever of the faces step, interleaved")
    p.add_argument("--lever-widths", type=float, nargs="+", default=[0.25, 0.5], help="(default: 0.25 0.5)")
    p.add_argument("--compile", action="store_true", help="with --levers: also torch.compile (minutes to compile)")
    p.add_argument("--profile", type=float, metavar="WIDTH", help="only: a torch.profiler table of the faces step")
    p.add_argument("--only", nargs="+", metavar="WORD", help="with --levers: only the levers whose names hold a WORD")
    p.add_argument("--faces-epoch", type=int, default=0, metavar="STEPS",
                   help="also run python -m mlvae.train over aligned faces for STEPS steps (default: skip)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores")
    if args.profile:
        print(profile_table(args.profile, args.groups))
        return
    if args.levers:
        for width in args.lever_widths:
            variants, images = lever_variants(width, args.groups, args.compile, args.only)
            step, flops = variants["default (the trainer as shipped)"]
            print(f"\nlevers, {args.groups} groups ({images} images) unless said, matmul ({images} x n) @ (n x n), "
                  f"median of {args.rounds} interleaved rounds:")
            print_levers(width, interleaved(variants, reference_matmul(images, flops), args.rounds, args.block_s))
        return
    if not args.skip_loop:
        nets = {
            "mnist-mlp": ModelConfig(),
            f"conv64-w{args.conv_width}": ModelConfig(architecture="conv", latent_dim=50, width=args.conv_width),
        }
        print(f"\none optimiser step, {args.groups} groups of 2-10 images (median of {args.repeats}):")
        print(f"{'network':<16}{'images':>8}{'vectorised/s':>15}{'loop/s':>12}{'speedup':>10}")
        for name, config in nets.items():
            r = step_benchmark(name, config, args.groups, args.repeats)
            print(f"{name:<16}{r['images']:>8}{r['vectorised_samples_per_s']:>15.0f}{r['loop_samples_per_s']:>12.0f}"
                  f"{r['speedup']:>9.1f}x")
    if not args.skip_table:
        print(f"\nthe trainer's optimiser step against a matmul of the same FLOPs, {args.groups} groups of 2-10 "
              "images, "
              f"median of {args.rounds} interleaved rounds of {args.block_s:g} s blocks:")
        print_flops_table(flops_table(args.groups, args.rounds, args.block_s))
    if args.faces_epoch:
        r = faces_epoch_benchmark(args.faces_epoch, args.threads, 0.25, args.rounds, args.block_s)
        print(f"\npython {r['command']}  ({r['wall_s']:.0f} s in all)")
        for clock, label in (("", "wall clock"), ("_cpu", "CPU time")):
            epoch_ratio, step_ratio = r[f"epoch_ratio{clock}"], r[f"step_ratio{clock}"]
            print(f"  {label}: training {r[f'images_per_s{clock}']:.0f} images/s = {100 * epoch_ratio:.0f}% of "
                  f"matmul; the step benchmark before and after it {r[f'step_images_per_s{clock}']:.0f} images/s = "
                  f"{100 * step_ratio:.0f}%; epoch/step {epoch_ratio / step_ratio:.2f}")
    if not args.skip_epoch:
        r = epoch_benchmark(args.epochs, args.threads)
        print(f"\npython -m mlvae.train --dataset mnist, {args.epochs} epochs of 50,000 images "
              "(data loading included):")
        print("  training images/s per epoch: " + ", ".join(f"{v:.0f}" for v in r["train_images_per_s_per_epoch"]))
        print("  whole command incl. startup, data loading and validation: "
              f"{r['wall_s_including_startup_and_validation']:.1f} s"
              f" = {r['images_per_s_including_everything']:.0f} training images/s")


if __name__ == "__main__":
    main()
