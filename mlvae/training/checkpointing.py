"""A run's checkpoints: ``best/`` (validation-selected, with its split) and ``last/`` (weights, optimiser, weight
average, the decoder terms' state, every rank's RNG and the progress, each file atomic), and resuming from
``last/``. Each function takes the parts it saves or restores, not the Trainer."""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors.torch import save_file

from mlvae.checkpoint.folder import (
    SPLIT_NAME,
    STATE_NAME,
    TRAINER_NAME,
    WEIGHTS_NAME,
    atomic_write,
    read_tensors,
    save_model,
    write_json,
)
from mlvae.config import RunConfig
from mlvae.model.interface import GroupedVAE
from mlvae.training import distributed
from mlvae.training.averaging import WeightAverage
from mlvae.training.decoder_term import DecoderTerm
from mlvae.training.state import Progress, TrainingError, optimizer_tensors, restore_optimizer


def rank_suffix(rank: int) -> str:
    """The suffix of a rank's RNG entries in ``last/``: none for rank 0, ``.rank<r>`` for the others."""
    return "" if rank == 0 else f".rank{rank}"


def rng_states(device: torch.device) -> dict[str, torch.Tensor]:
    """Every rank's RNG state (a collective under torchrun): ``rng.torch`` for rank 0, ``rng.torch.rank<r>``."""
    states = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return {
        f"rng.{name}{rank_suffix(r)}": value
        for name, state in states.items()
        for r, value in enumerate(distributed.all_gather(state, device))
    }


def save_last(folder: Path, module: GroupedVAE, config: RunConfig, optimizer: torch.optim.Optimizer,
              progress: Progress, rng: dict[str, torch.Tensor], average: WeightAverage | None = None,
              terms: Sequence[DecoderTerm] = ()) -> None:
    """Resumable state in ``folder`` (``last/``): the weights of ``module``, the optimiser, ``rng`` (from
    ``rng_states``), the weight average and the decoder terms' state, each file written atomically."""
    tensors, meta = optimizer_tensors(optimizer)
    tensors.update(rng)
    if average is not None:
        tensors.update(average.tensors())
    save_model(folder, module, config)
    atomic_write(folder / STATE_NAME, lambda tmp: save_file(tensors, str(tmp)))
    record = {"progress": progress.__dict__, "optimizer": meta}
    for term in terms:
        record.update(term.save(folder))
    write_json(folder / TRAINER_NAME, record)


def save_best(folder: Path, model: GroupedVAE, config: RunConfig, split: dict) -> None:
    """The validation-selected ``model`` in ``folder`` (``best/``), with the group split it was trained on."""
    save_model(folder, model, config)
    write_json(folder / SPLIT_NAME, split)


def resume(folder: Path, module: GroupedVAE, optimizer: torch.optim.Optimizer, device: torch.device, rank: int = 0,
           average: WeightAverage | None = None, terms: Sequence[DecoderTerm] = ()) -> Progress | None:
    """Load ``folder`` (``last/``), if present, into ``module``, ``optimizer``, the weight average, the terms and
    this rank's RNG; returns the run's progress, or None when there is nothing to resume."""
    if not (folder / TRAINER_NAME).exists():
        return None
    try:
        module.load_state_dict(read_tensors(folder / WEIGHTS_NAME))
        tensors = read_tensors(folder / STATE_NAME)
        meta = json.loads((folder / TRAINER_NAME).read_text())
        device_tensors = {k: v.to(device) for k, v in tensors.items()}
        restore_optimizer(optimizer, device_tensors, meta["optimizer"])
        progress = Progress(**meta["progress"])
        if average is not None and not average.load(tensors):
            average.reset(module)  # a run saved before it kept an average
        for term in terms:
            term.restore(folder, meta)
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TrainingError(
            f"{folder} does not fit this run's config.json ({str(exc).splitlines()[0][:200]}): it was written by "
            "another run or edited. Restore the run's own last/, or start a new run with another --out"
        ) from exc
    suffix = rank_suffix(rank)  # a run resumed on more ranks than it had keeps fresh noise on the new ones
    if f"rng.torch{suffix}" in tensors:
        torch.set_rng_state(tensors[f"rng.torch{suffix}"])
    if f"rng.cuda{suffix}" in tensors and device.type == "cuda":
        torch.cuda.set_rng_state(tensors[f"rng.cuda{suffix}"], device)
    return progress
