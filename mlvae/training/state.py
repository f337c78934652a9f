"""A run's saved state: where it stands (``trainer_state.json``), the optimiser's tensors, and the checks
made before any work (the output folder can be written and has room)."""
from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from mlvae.config import RunConfig
from mlvae.errors import MLVAEError
from mlvae.model.model_types import build_model


class TrainingError(MLVAEError):
    """Training cannot start or continue; the message says why and what to do."""


@dataclass
class Progress:
    """Where a run stands; saved in ``trainer_state.json``."""

    epoch: int = 0  # the epoch in progress (0-based)
    batch_in_epoch: int = 0  # batches of that epoch already done
    step: int = 0  # optimiser steps done
    best_val_elbo: float = -math.inf
    elapsed_s: float = 0.0


def check_output_folder(out: Path, needed_bytes: int) -> None:
    """Fail before training if ``out`` cannot be written or its disk is nearly full."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise TrainingError(f"cannot write to the output folder {out} ({exc.strerror}); choose another --out") from exc
    free = shutil.disk_usage(out).free
    if free < needed_bytes:
        raise TrainingError(
            f"only {free // 2**20} MiB free on the disk of {out}; checkpoints need about "
            f"{needed_bytes // 2**20} MiB: free some space or choose another --out"
        )


def checkpoint_bytes(config: RunConfig) -> int:
    """Disk a run needs: best/ and last/ weights plus Adam's two moments, with a margin."""
    with torch.random.fork_rng(devices=[]):  # building the model must not move the run's random stream
        weights = sum(p.numel() for p in build_model(config.model).parameters()) * 4
    return 4 * weights + 16 * 2**20


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimiser state dict into tensors (for safetensors) and JSON (no pickle)."""
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for pid, slots in state["state"].items():
        for name, value in slots.items():
            if torch.is_tensor(value):
                tensors[f"opt.{pid}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{name}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    """Inverse of ``optimizer_tensors``."""
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("opt."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
    for key, value in meta["scalars"].items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
