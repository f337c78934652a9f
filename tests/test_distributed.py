"""Two-rank DistributedDataParallel training on the CPU (gloo) on real MNIST.

The ranks' steps are compared with one single-process step over the union of their groups (same noise);
a ``torchrun -m mlvae.train`` run interrupted and resumed must end exactly where an uninterrupted one does.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from mlvae import group_elbo, load_model
from mlvae.data import GroupBatchSampler, load_splits
from mlvae.data.images import to_float
from mlvae.training import distributed
from mlvae.training.cli import build_parser, config_from_args, main
from mlvae.training.state import TrainingError
from mlvae.training.trainer import Trainer

WORLD = 2
# 400 images in groups of 1..10, 8 groups per rank: 5 steps per epoch; epoch 1's last step holds 8 groups on
# rank 0 and 2 on rank 1, so the loss weighting across ranks matters
ARGS = [
    "--dataset", "mnist", "--max-train-images", "400", "--max-val-images", "200", "--groups-per-batch", "8",
    "--epochs", "2", "--threads", "1", "--device", "cpu",
]
REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config():
    return config_from_args(build_parser().parse_args(ARGS))


def _rank_worker(rank: int, port: int, folder: Path) -> None:
    """One rank: epoch 1 step by step (recorded), validation, a NaN on one rank, then a whole CLI run."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(WORLD),
        LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(WORLD),
    )
    torch.set_num_threads(1)
    config = _config()
    distributed.setup(torch.device("cpu"), timeout_min=2)  # a bug that desynchronises ranks fails, not hangs
    trainer = Trainer(config, load_splits(config.data), folder / "steps", rank=rank, world_size=WORLD)
    tensors: dict[str, torch.Tensor] = {}
    meta: dict = {"loss": [], "num_groups": []}
    for step, batch in enumerate(trainer.sampler):
        tensors[f"{step}.rng"] = torch.get_rng_state()
        tensors[f"{step}.indices"] = batch.indices
        tensors[f"{step}.group_ids"] = batch.group_ids
        meta["loss"].append(trainer.train_step(batch))
        meta["num_groups"].append(batch.num_groups)
        for name, param in trainer.module.named_parameters():
            tensors[f"{step}.param.{name}"] = param.detach().clone()
            if rank == 0:  # DDP's all-reduced gradient, the same on every rank
                tensors[f"{step}.grad.{name}"] = param.grad.detach().clone()
    meta["val"] = trainer.validate()
    if rank == 1:  # a NaN on rank 1 only: every rank must stop
        with torch.no_grad():
            trainer.module.decoder.net[0].weight[0, 0] = float("nan")
    try:
        trainer.train_step(next(iter(trainer.sampler)))
        meta["nan_stopped"] = False
    except TrainingError as exc:
        meta["nan_stopped"] = "loss became nan" in str(exc)
    save_file(tensors, str(folder / f"rank{rank}.safetensors"))
    (folder / f"rank{rank}.json").write_text(json.dumps(meta))
    meta["cli"] = main(ARGS + ["--out", str(folder / "full")])  # uninterrupted reference for the resume test
    (folder / f"rank{rank}.json").write_text(json.dumps(meta))


@pytest.fixture(scope="module")
def two_ranks(shared_data, tmp_path_factory) -> Path:  # real MNIST
    folder = tmp_path_factory.mktemp("ddp")
    mp.spawn(_rank_worker, args=(_free_port(), folder), nprocs=WORLD, join=True)
    return folder


def _records(folder: Path, rank: int) -> tuple[dict[str, torch.Tensor], dict]:
    return load_file(str(folder / f"rank{rank}.safetensors")), json.loads((folder / f"rank{rank}.json").read_text())


def test_sampler_deals_each_rank_different_whole_groups_every_epoch() -> None:
    groups = torch.from_numpy(np.random.default_rng(0).integers(0, 30, size=900))
    dealt = {}
    for epoch in range(2):
        for rank in range(WORLD):
            sampler = GroupBatchSampler(groups, 8, 1, 10, seed=0, rank=rank, world_size=WORLD)
            sampler.set_epoch(epoch)
            dealt[epoch, rank] = [b.indices for b in sampler]
        assert len(dealt[epoch, 0]) == len(dealt[epoch, 1]) > 0  # ranks step together
        rank0, rank1 = (set(torch.cat(dealt[epoch, r]).tolist()) for r in range(WORLD))
        assert not rank0 & rank1  # no image (so no group chunk) on two ranks
    assert not torch.equal(torch.cat(dealt[0, 0]), torch.cat(dealt[1, 0]))  # reshuffled every epoch


def test_two_ranks_step_like_one_process_on_the_union_of_their_groups(two_ranks: Path) -> None:
    (rec0, meta0), (rec1, meta1) = _records(two_ranks, 0), _records(two_ranks, 1)
    assert meta0["num_groups"][-1] != meta1["num_groups"][-1]  # the unequal step is exercised
    assert meta0["loss"] == meta1["loss"]  # every rank reports the global loss
    names = [k.split(".param.", 1)[1] for k in rec0 if k.startswith("0.param.")]
    steps = len(meta0["loss"])
    for step in range(steps):
        for name in names:  # identical, bit for bit, on both ranks after every step
            assert torch.equal(rec0[f"{step}.param.{name}"], rec1[f"{step}.param.{name}"]), (step, name)

    # single process: one forward over the union of both ranks' groups, with the noise each rank drew
    config = _config()
    torch.set_num_threads(1)
    reference = Trainer(config, load_splits(config.data), two_ranks / "reference")
    model, d = reference.module, config.model.latent_dim
    for step in range(steps):
        if step > 0:  # start from the ranks' weights, so each step is compared on its own
            model.load_state_dict({n: rec0[f"{step - 1}.param.{n}"] for n in names})
        indices, group_ids, content_eps, style_eps, offset = [], [], [], [], 0
        for rec, meta in ((rec0, meta0), (rec1, meta1)):
            torch.set_rng_state(rec[f"{step}.rng"])
            count = rec[f"{step}.indices"].numel()
            content_eps.append(torch.randn(count, d))  # what group_elbo drew on that rank: content, then style
            style_eps.append(torch.randn(count, d))
            indices.append(rec[f"{step}.indices"])
            group_ids.append(rec[f"{step}.group_ids"] + offset)
            offset += meta["num_groups"][step]
        x = to_float(reference.train_data.images[torch.cat(indices)])
        terms = group_elbo(model, x, torch.cat(group_ids), offset, noise=(torch.cat(content_eps), torch.cat(style_eps)))
        model.zero_grad(set_to_none=True)
        terms.loss.backward()
        assert meta0["loss"][step] == pytest.approx(terms.loss.item(), rel=1e-5), step
        for name, param in model.named_parameters():
            grad = rec0[f"{step}.grad.{name}"]
            scale = param.grad.abs().max().item()
            torch.testing.assert_close(grad, param.grad, rtol=1e-4, atol=1e-4 * scale, msg=f"step {step}: {name}")

    # validation: batches dealt to ranks and summed equal one process validating everything
    model.load_state_dict({n: rec0[f"{steps - 1}.param.{n}"] for n in names})
    single = reference.validate()
    for key, value in single.items():
        assert meta0["val"][key] == meta1["val"][key] == pytest.approx(value, rel=1e-6), key


def test_nan_on_one_rank_stops_every_rank(two_ranks: Path) -> None:
    assert [_records(two_ranks, r)[1]["nan_stopped"] for r in range(WORLD)] == [True, True]


def _torchrun(args: list[str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={WORLD}",
               "-m", "mlvae.train", *args]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_torchrun_run_resumed_ends_where_an_uninterrupted_run_does(two_ranks: Path, tmp_path: Path) -> None:
    full = two_ranks / "full"
    assert [_records(two_ranks, r)[1]["cli"] for r in range(WORLD)] == [0, 0]
    run = tmp_path / "run"
    first = _torchrun(ARGS + ["--out", str(run), "--max-steps", "3"])  # stops in the middle of epoch 1
    assert first.stderr.count("INFO effective batch: 2 rank(s) x 8 groups = 16 groups per optimiser step") == 1
    assert [m["step"] for m in _metrics(run)] == [3]
    second = _torchrun(ARGS + ["--out", str(run), "--resume", "--max-steps", "1000"])
    assert second.stderr.count("INFO resumed") == 1  # only rank 0 logs

    # checkpoints and logs written once, by rank 0: one metrics line per validation, no stray files
    assert [m["step"] for m in _metrics(run)] == [3, 5, 10]
    assert [m["step"] for m in _metrics(full)] == [5, 10]
    files = sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file())
    assert files == sorted(
        ["config.json", "split.json", "metrics.jsonl"]
        + [f"best/{n}" for n in ("config.json", "model.safetensors", "split.json")]
        + [f"last/{n}"
           for n in ("config.json", "model.safetensors", "trainer_state.json", "training_state.safetensors")]
    )
    state = load_file(str(run / "last" / "training_state.safetensors"))
    assert {"rng.torch", "rng.torch.rank1"} <= set(state)  # each rank's noise resumes where it was

    # resumed == uninterrupted, exactly: weights, optimiser state and validation
    for name in ("model.safetensors", "training_state.safetensors"):
        resumed, straight = load_file(str(run / "last" / name)), load_file(str(full / "last" / name))
        assert resumed.keys() == straight.keys()
        for key in straight:
            assert torch.equal(resumed[key], straight[key]), (name, key)
    assert _metrics(run)[-1]["val_elbo"] == _metrics(full)[-1]["val_elbo"]
    model, config = load_model(run)  # the run folder resolves to best/
    assert config.train.groups_per_batch == 8
    best = load_file(str(full / "best" / "model.safetensors"))
    assert all(torch.equal(value, best[key]) for key, value in model.state_dict().items())
