"""Multi-process training under ``torchrun``: process group, per-rank device, and the collectives the trainer uses.

``torchrun`` sets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT; without them
(or with WORLD_SIZE=1) everything here is a no-op and training is single-process. The backend is NCCL on
CUDA and gloo on CPU. Every helper is called by all ranks in the same order (they are collectives).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from mlvae.errors import MLVAEError


class DistributedError(MLVAEError):
    """Multi-process training cannot start or the ranks disagree; the message says what to do."""


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands among the ranks; defaults describe a single process."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints, logs and the progress bar."""
        return self.rank == 0


def env_rank() -> int:
    """This process's global rank as torchrun set it (0 when not launched by torchrun)."""
    return int(os.environ.get("RANK", "0"))


def is_active() -> bool:
    """True when a process group with more than one rank is initialised."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def setup(device: torch.device, timeout_min: float = 30.0) -> DistributedContext:
    """Join the process group torchrun describes: NCCL on CUDA (one GPU per LOCAL_RANK), gloo on CPU."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext()
    rank, local_rank = env_rank(), int(os.environ.get("LOCAL_RANK", "0"))
    local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", str(world_size)))
    if not dist.is_available():
        raise DistributedError("this PyTorch build has no torch.distributed: run without torchrun")
    if device.type == "cuda":
        visible = torch.cuda.device_count()
        if local_rank >= visible:
            raise DistributedError(
                f"LOCAL_RANK {local_rank} but only {visible} CUDA device(s) visible on this node: "
                f"use torchrun --nproc_per_node {visible} (or fewer)"
            )
        torch.cuda.set_device(local_rank)
        backend = "nccl"
    elif device.type == "cpu":
        backend = "gloo"
    else:
        raise DistributedError(
            f"multi-process training runs on CUDA (NCCL) or CPU (gloo), not {device.type}: pass --device cpu "
            "or run without torchrun"
        )
    if not dist.is_initialized():
        dist.init_process_group(
            backend, rank=rank, world_size=world_size, timeout=timedelta(minutes=timeout_min),
            device_id=torch.device("cuda", local_rank) if backend == "nccl" else None,
        )
    return DistributedContext(rank, world_size, local_rank, local_world_size, backend)


def rank_device(device: torch.device) -> torch.device:
    """``cuda`` -> this rank's GPU (``cuda:LOCAL_RANK``, set by ``setup``); any other device unchanged."""
    if is_active() and device.type == "cuda":
        return torch.device("cuda", torch.cuda.current_device())
    return device


def wrap(module: nn.Module, device: torch.device) -> nn.Module:
    """DistributedDataParallel around ``module`` (in place: its BatchNorms become SyncBatchNorm on CUDA).

    SyncBatchNorm on CUDA: the conv net's batch statistics are then those of the whole effective batch, as
    in a single-GPU run over the union of the ranks' groups, and the running statistics stay identical on
    every rank. gloo has no SyncBatchNorm; on CPU each rank normalises by its own batch and DDP copies
    rank 0's running statistics to the others at every forward pass.
    """
    if device.type == "cuda":
        module = nn.SyncBatchNorm.convert_sync_batchnorm(module)  # keeps the same Parameter objects
        return DistributedDataParallel(module, device_ids=[device.index], output_device=device.index)
    return DistributedDataParallel(module)


def loss_for_group_mean(loss: torch.Tensor, num_groups: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rescale this rank's loss so DDP yields the gradient of the mean over all ranks' groups.

    ``loss`` is this rank's -(1/g_r) sum_G ELBO(G) over its g_r groups (paper eq. 5). DDP averages
    gradients over the W ranks, giving grad (1/W) sum_r L_r; the objective over the union batch is
    -(1/g) sum_r sum_G ELBO(G) = sum_r (g_r / g) L_r with g = sum_r g_r. So rank r back-propagates
    (W g_r / g) L_r. Without it the ranks' groups would be weighted unequally whenever the g_r differ
    (the last, short batch of an epoch). ``num_groups``: the count ``loss`` averages over (``elbo`` rows:
    observations for the VAE baselines). Returns (loss to back-propagate, global loss: detached, the same
    on every rank, NaN on all ranks if NaN on one).
    """
    if not is_active():
        return loss, loss.detach()
    # one all-reduce per step: [sum_r g_r L_r, g]; float64 keeps the group count exact
    stats = torch.stack([loss.detach().double() * num_groups, loss.new_tensor(float(num_groups), dtype=torch.float64)])
    dist.all_reduce(stats)
    total_groups = stats[1]
    scale = (dist.get_world_size() * num_groups / total_groups).to(loss.dtype)
    return loss * scale, stats[0] / total_groups


def all_reduce_sum(values: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Element-wise sum over ranks, on the CPU (``values`` itself in a single process); ``device``: this rank's."""
    if not is_active():
        return values
    summed = values.to(device)
    dist.all_reduce(summed)
    return summed.cpu()


def broadcast_buffers(module: nn.Module) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every rank."""
    if is_active():
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)


def all_gather(tensor: torch.Tensor, device: torch.device) -> list[torch.Tensor]:
    """Every rank's ``tensor`` (same shape and dtype on all ranks), in rank order, on the CPU."""
    if not is_active():
        return [tensor.cpu()]
    local = tensor.to(device)
    gathered = [torch.empty_like(local) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, local)
    return [t.cpu() for t in gathered]


def check_same_on_all_ranks(value: int, what: str, advice: str) -> None:
    """Raise DistributedError on every rank unless all ranks hold the same ``value``."""
    if not is_active():
        return
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    bounds = torch.tensor([value, -value], dtype=torch.float64, device=device)
    dist.all_reduce(bounds, op=dist.ReduceOp.MAX)
    if bounds[0].item() != -bounds[1].item():
        low, high = -bounds[1].item(), bounds[0].item()
        raise DistributedError(f"the ranks disagree on {what} (from {low:.0f} to {high:.0f}): {advice}")


def barrier() -> None:
    """Wait for every rank."""
    if is_active():
        dist.barrier()


def cleanup() -> None:
    """Leave the process group (if any)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
