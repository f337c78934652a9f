"""The ELBO of a whole held-out set on a fixed grouping with fixed noise, so that figures compare across
epochs, runs and the model card."""
from __future__ import annotations

from collections.abc import Callable

import torch

from mlvae.config import TrainConfig
from mlvae.data import GroupBatch, GroupBatchSampler, GroupedImages
from mlvae.data.images import to_float
from mlvae.model.objective import ObjectiveTerms, group_elbo

SEED_OFFSET = 1_000_003  # held-out grouping and noise differ from the training run's


def fixed_batches(groups: torch.Tensor, train: TrainConfig) -> GroupBatchSampler:
    """The held-out grouping: the training group sizes, a fixed seed."""
    return GroupBatchSampler(groups, train.groups_per_batch, train.min_group_size, train.max_group_size,
                             train.seed + SEED_OFFSET)


def accumulate_elbo(
    batches: GroupBatchSampler,
    objective: Callable[[GroupBatch, torch.Generator], ObjectiveTerms],
    seed: int,
    device: torch.device,
    keep: Callable[[int], bool] = lambda i: True,
) -> torch.Tensor:
    """Sums (ELBO, content KL, style KL, log-likelihood, groups, images) over the kept batches: (6,) float64.

    Batch i's noise is seeded by ``seed + i``, so the figures do not depend on which process ran which batch."""
    sums = torch.zeros(6, dtype=torch.float64)
    for i, batch in enumerate(batches):
        if not keep(i):
            continue
        terms = objective(batch, torch.Generator(device).manual_seed(seed + SEED_OFFSET + i))
        sums += torch.tensor([
            terms.elbo.sum().item(), terms.kl_content.sum().item(), terms.kl_style.sum().item(),
            terms.log_likelihood.sum().item(), terms.num_groups, terms.num_images,
        ], dtype=torch.float64)
    return sums


def summarise(sums: torch.Tensor, prefix: str) -> dict[str, float]:
    """Per-group and per-image figures from ``accumulate_elbo``'s sums."""
    total, kl_c, kl_s, ll, groups, images = sums.tolist()
    return {
        f"{prefix}_elbo": total / groups, f"{prefix}_elbo_per_image": total / images,
        f"{prefix}_log_likelihood_per_image": ll / images, f"{prefix}_kl_style_per_image": kl_s / images,
        f"{prefix}_kl_content_per_group": kl_c / groups,
    }


@torch.no_grad()
def heldout_elbo(model, data: GroupedImages, train: TrainConfig, prefix: str = "test") -> dict[str, float]:
    """The ELBO of ``data`` as the training run validated it (eval mode, same grouping rule and seeds)."""
    device = next(model.parameters()).device
    model.eval()

    def objective(batch: GroupBatch, generator: torch.Generator) -> ObjectiveTerms:
        x = to_float(data.images[batch.indices].to(device))
        return group_elbo(model, x, batch.group_ids.to(device), batch.num_groups, generator)

    return summarise(accumulate_elbo(fixed_batches(data.groups, train), objective, train.seed, device), prefix)
