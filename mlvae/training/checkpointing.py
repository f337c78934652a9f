"""A run's checkpoints: ``best/`` (validation-selected, with its split) and ``last/`` (weights, optimiser, weight
average, discriminator, every rank's RNG and the progress, each file atomic), and resuming from ``last/``."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

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
from mlvae.training import distributed
from mlvae.training.state import Progress, TrainingError, optimizer_tensors, restore_optimizer

if TYPE_CHECKING:
    from mlvae.training.trainer import Trainer


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


def save_last(trainer: Trainer, rng: dict[str, torch.Tensor]) -> None:
    """Resumable state of ``trainer`` in ``last/`` (``rng``: from ``rng_states``), each file written atomically."""
    folder = trainer.out / "last"
    tensors, meta = optimizer_tensors(trainer.optimizer)
    tensors.update(rng)
    if trainer.average is not None:
        tensors.update(trainer.average.tensors())
    save_model(folder, trainer.module, trainer.config)
    atomic_write(folder / STATE_NAME, lambda tmp: save_file(tensors, str(tmp)))
    record = {"progress": trainer.progress.__dict__, "optimizer": meta}
    if trainer.adversary is not None:
        record["discriminator_optimizer"] = trainer.adversary.save(folder)
    write_json(folder / TRAINER_NAME, record)


def save_best(trainer: Trainer) -> None:
    """The validation-selected model in ``best/``, with the group split it was trained on."""
    save_model(trainer.out / "best", trainer.validated, trainer.config)
    write_json(trainer.out / "best" / SPLIT_NAME, trainer.splits.record)


def resume(trainer: Trainer) -> bool:
    """Load ``last/`` into ``trainer`` if present; returns whether a run was resumed."""
    folder = trainer.out / "last"
    if not (folder / TRAINER_NAME).exists():
        return False
    try:
        trainer.module.load_state_dict(read_tensors(folder / WEIGHTS_NAME))
        tensors = read_tensors(folder / STATE_NAME)
        meta = json.loads((folder / TRAINER_NAME).read_text())
        device_tensors = {k: v.to(trainer.device) for k, v in tensors.items()}
        restore_optimizer(trainer.optimizer, device_tensors, meta["optimizer"])
        progress = Progress(**meta["progress"])
        if trainer.average is not None and not trainer.average.load(tensors):
            trainer.average.reset(trainer.module)  # a run saved before it kept an average
        if trainer.adversary is not None and "discriminator_optimizer" in meta:
            trainer.adversary.load(folder, meta["discriminator_optimizer"])
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TrainingError(
            f"{folder} does not fit this run's config.json ({str(exc).splitlines()[0][:200]}): it was written by "
            "another run or edited. Restore the run's own last/, or start a new run with another --out"
        ) from exc
    suffix = rank_suffix(trainer.rank)  # a run resumed on more ranks than it had keeps fresh noise on the new ones
    if f"rng.torch{suffix}" in tensors:
        torch.set_rng_state(tensors[f"rng.torch{suffix}"])
    if f"rng.cuda{suffix}" in tensors and trainer.device.type == "cuda":
        torch.cuda.set_rng_state(tensors[f"rng.cuda{suffix}"], trainer.device)
    trainer.progress = progress
    return True
