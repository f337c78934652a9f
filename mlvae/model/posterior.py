"""Diagonal Normal posteriors and their pooling into a group content posterior.

Product of Normals: paper eq. 7 (supplement eq. 8-12). Mixture of Normals: supplement §1.
Everything is vectorised over a batch that holds many groups of different sizes, identified by a
group-id vector ``group_ids`` of shape (B,) with values in ``[0, num_groups)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

LOG_2PI = math.log(2.0 * math.pi)
PAPER_LOGVAR_BOUND = 5.0


def bounded_logvar(raw: torch.Tensor, bound: float = PAPER_LOGVAR_BOUND) -> torch.Tensor:
    """bound * tanh(5 raw / bound), in (-bound, bound): the supplement's 5 * tanh(raw) at bound 5 (every
    log-variance head, the encoders' and the Normal decoder's).

    The slope at raw = 0 is 5 whatever the bound, so a wider bound changes what a trained head computes only
    where it was near the paper's bound."""
    if bound == PAPER_LOGVAR_BOUND:
        return PAPER_LOGVAR_BOUND * torch.tanh(raw)
    return bound * torch.tanh(raw * (PAPER_LOGVAR_BOUND / bound))


def standard_normal(like: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """N(0, I) noise of ``like``'s shape, dtype and device."""
    if generator is None and torch.compiler.is_compiling():  # --compile: dynamo cannot trace randn of a
        return torch.randn_like(like)  # batch-sized (symbolic) shape, randn_like it can
    return torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)


@dataclass
class DiagonalNormal:
    """N(mean, diag(exp(logvar))); ``mean`` and ``logvar`` have shape (N, d)."""

    mean: torch.Tensor
    logvar: torch.Tensor

    @property
    def variance(self) -> torch.Tensor:
        """Variance (N, d)."""
        return self.logvar.exp()  # out of place on purpose: an in-place exp_ would overwrite the logvar autograd needs

    def rsample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """Reparameterised sample mean + std * eps with eps ~ N(0, I) (N, d)."""
        eps = standard_normal(self.mean, generator)
        return self.mean + torch.exp(0.5 * self.logvar) * eps

    def index(self, idx: torch.Tensor) -> DiagonalNormal:
        """Rows ``idx`` of both parameters."""
        return DiagonalNormal(self.mean[idx], self.logvar[idx])


def normal_log_prob(x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Elementwise log N(x; mean, exp(logvar))."""
    return -0.5 * (LOG_2PI + logvar + (x - mean) ** 2 * torch.exp(-logvar))


def kl_per_dimension(q: DiagonalNormal) -> torch.Tensor:
    """KL(q || N(0, I)) in closed form, per dimension (N, d)."""
    return 0.5 * (q.mean**2 + torch.exp(q.logvar) - 1.0 - q.logvar)


def kl_to_standard_normal(q: DiagonalNormal) -> torch.Tensor:
    """KL(q || N(0, I)) in closed form, summed over dimensions (N,)."""
    return kl_per_dimension(q).sum(-1)


def check_group_ids(group_ids: torch.Tensor, num_groups: int, batch: int | None = None) -> None:
    """Refuse group ids (B,) that are not integers in [0, num_groups) with every id present (ValueError).

    A missing id is an empty group whose pooled precision is 0: the objective would silently be NaN."""
    if group_ids.dim() != 1 or group_ids.dtype.is_floating_point or group_ids.dtype == torch.bool:
        raise ValueError(
            f"group_ids must be a 1-d integer tensor, got shape {tuple(group_ids.shape)} {group_ids.dtype}")
    if batch is not None and group_ids.shape[0] != batch:
        raise ValueError(f"group_ids has {group_ids.shape[0]} entries for a batch of {batch} observations")
    fix = "compact raw labels first: group_ids = torch.unique(labels, return_inverse=True)[1]"
    if group_ids.numel() and (int(group_ids.min()) < 0 or int(group_ids.max()) >= num_groups):
        raise ValueError(f"group ids must lie in 0..{num_groups - 1} (num_groups = {num_groups}), got "
                         f"{int(group_ids.min())}..{int(group_ids.max())}: {fix}")
    missing = (torch.bincount(group_ids, minlength=num_groups) == 0).nonzero().flatten()
    if missing.numel():
        raise ValueError(f"group ids must use every id 0..{num_groups - 1}, but no observation has id "
                         f"{missing[:5].tolist()}: an empty group would make the objective NaN; {fix}")


def segment_logsumexp(values: torch.Tensor, group_ids: torch.Tensor, num_groups: int) -> torch.Tensor:
    """log sum_{i in g} exp(values_i) for each group g: (B, d) -> (num_groups, d)."""
    index = group_ids.unsqueeze(-1).expand_as(values)
    # The shift only stabilises exp; logsumexp does not depend on it, so no gradient needs to pass it.
    shift = torch.full((num_groups, values.shape[-1]), -torch.inf, dtype=values.dtype, device=values.device)
    shift = shift.scatter_reduce(0, index, values.detach(), reduce="amax", include_self=True)
    summed = torch.zeros_like(shift).index_add(0, group_ids, torch.exp(values - shift[group_ids]))
    return shift + torch.log(summed)


def product_of_normals(evidence: DiagonalNormal, group_ids: torch.Tensor, num_groups: int) -> DiagonalNormal:
    """Pool per-observation content evidence into one Normal per group (paper eq. 7).

    precision_G = sum_i 1/var_i and mean_G = sum_i (mean_i/var_i) / precision_G, computed in log space:
    log precision_G = logsumexp_i(-logvar_i), weights w_i = exp(-logvar_i - log precision_G).
    ``evidence`` is (B, d); returns (num_groups, d).
    """
    check_group_ids(group_ids, num_groups, evidence.mean.shape[0])
    log_precision = segment_logsumexp(-evidence.logvar, group_ids, num_groups)
    weights = torch.exp(-evidence.logvar - log_precision[group_ids])
    mean = torch.zeros_like(log_precision).index_add(0, group_ids, weights * evidence.mean)
    return DiagonalNormal(mean, -log_precision)


def pool(evidence: DiagonalNormal, members: torch.Tensor | None = None) -> DiagonalNormal:
    """Product of the Normals of ``members`` (indices or a bool mask; all rows if None): (N, d) -> (1, d).

    This is how k photos of one group are pooled at test time (strategy 2 of the paper).
    """
    chosen = evidence if members is None else evidence.index(members)
    if chosen.mean.shape[0] == 0:
        raise ValueError("cannot pool an empty set of encodings: give at least one observation")
    ids = torch.zeros(chosen.mean.shape[0], dtype=torch.long, device=chosen.mean.device)
    return product_of_normals(chosen, ids, 1)


def mixture_sample(
    evidence: DiagonalNormal, group_ids: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """One reparameterised sample per observation from its group's mixture (supplement eq. 1): (B, d).

    Observation i draws a component j uniformly among the members of its group, then c = mean_j + std_j*eps.
    """
    batch = group_ids.shape[0]
    same = group_ids.unsqueeze(0) == group_ids.unsqueeze(1)  # (B, B)
    scores = torch.rand((batch, batch), generator=generator, device=group_ids.device)
    component = torch.where(same, scores, torch.full_like(scores, -1.0)).argmax(dim=1)
    return evidence.index(component).rsample(generator)


def mixture_log_density(
    samples: torch.Tensor, evidence: DiagonalNormal, group_ids: torch.Tensor
) -> torch.Tensor:
    """log q(c_l | X_G) = log (1/|G|) sum_{i in G} N(c_l; mean_i, var_i) for each sample's group (B,)."""
    pair = normal_log_prob(samples.unsqueeze(1), evidence.mean.unsqueeze(0), evidence.logvar.unsqueeze(0)).sum(-1)
    same = group_ids.unsqueeze(0) == group_ids.unsqueeze(1)  # (B samples, B components)
    pair = pair.masked_fill(~same, -torch.inf)
    return torch.logsumexp(pair, dim=1) - torch.log(same.sum(1).to(samples.dtype))


def mixture_kl_monte_carlo(
    samples: torch.Tensor, evidence: DiagonalNormal, group_ids: torch.Tensor, num_groups: int
) -> torch.Tensor:
    """Monte Carlo KL(q(C_G|X_G) || N(0, I)) per group from its L = |G| samples (supplement eq. 3): (num_groups,)."""
    check_group_ids(group_ids, num_groups, samples.shape[0])
    prior = normal_log_prob(samples, torch.zeros_like(samples), torch.zeros_like(samples)).sum(-1)
    per_sample = mixture_log_density(samples, evidence, group_ids) - prior
    total = torch.zeros(num_groups, dtype=samples.dtype, device=samples.device).index_add(0, group_ids, per_sample)
    counts = torch.zeros(num_groups, dtype=samples.dtype, device=samples.device).index_add(
        0, group_ids, torch.ones_like(per_sample)
    )
    return total / counts
