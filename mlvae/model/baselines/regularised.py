"""The regularised VAE of supplement §8 (eq. 18): per-observation content and style, plus a penalty that
pulls the content posteriors of observations of the same group together.

objective = (1/N) sum_i ELBO_i  -  lambda * (1/|groups|) sum_G (1/(|G|/2)) sum_{pairs (2i, 2i+1) in G} symKL_i
symKL(p, q) = (KL(p || q) + KL(q || p)) / 2

Pairs are consecutive observations of a group in batch order (first with second, third with fourth, ...).
An odd group's last observation is unpaired and its mean runs over its floor(|G|/2) pairs; a group of one
has no pair and adds 0 (it still counts in 1/|groups|, as in eq. 18).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from mlvae.model.ml_vae import MLVAE
from mlvae.model.objective import ObjectiveTerms, group_elbo_from_posteriors
from mlvae.model.posterior import DiagonalNormal


def symmetrised_kl(p: DiagonalNormal, q: DiagonalNormal) -> torch.Tensor:
    """(KL(p||q) + KL(q||p)) / 2 for diagonal Normals, summed over dimensions: (N, d), (N, d) -> (N,).

    The log-determinant terms cancel: 1/4 sum_d [(v_p + D^2)/v_q + (v_q + D^2)/v_p - 2], D = mean_p - mean_q.
    """
    delta2 = (p.mean - q.mean) ** 2
    ratio = torch.exp(p.logvar - q.logvar)  # v_p / v_q, from log-variances (no division by a tiny variance)
    per_dim = ratio + 1.0 / ratio - 2.0 + delta2 * (torch.exp(-p.logvar) + torch.exp(-q.logvar))
    return 0.25 * per_dim.sum(-1)


def consecutive_pairs(group_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (P,), (P,) of the pairs (1st, 2nd), (3rd, 4th), ... of each group, in batch order."""
    count = group_ids.shape[0]
    order = torch.argsort(group_ids, stable=True)
    ids = group_ids[order]
    position = torch.arange(count, device=group_ids.device)
    is_start = torch.ones_like(ids, dtype=torch.bool)
    is_start[1:] = ids[1:] != ids[:-1]
    start = torch.cummax(torch.where(is_start, position, torch.zeros_like(position)), dim=0).values
    rank = position - start  # place of each observation within its group
    has_next = torch.zeros_like(is_start)
    has_next[:-1] = ~is_start[1:]  # the next observation (in sorted order) is of the same group
    first = ((rank % 2 == 0) & has_next).nonzero().flatten()
    return order[first], order[first + 1]


def pair_penalty(content: DiagonalNormal, group_ids: torch.Tensor, num_groups: int) -> torch.Tensor:
    """Eq. 18's penalty (scalar): per group the mean symmetrised KL over its pairs, averaged over all groups."""
    first, second = consecutive_pairs(group_ids)
    sym = symmetrised_kl(content.index(first), content.index(second))
    pair_group = group_ids[first]
    zeros = torch.zeros(num_groups, dtype=sym.dtype, device=sym.device)
    per_group = zeros.index_add(0, pair_group, sym)
    pairs = zeros.index_add(0, pair_group, torch.ones_like(sym)).clamp_min(1.0)
    return (per_group / pairs).sum() / num_groups


@dataclass
class RegularisedTerms(ObjectiveTerms):
    """ObjectiveTerms of the per-observation ELBO, plus the unweighted eq. 18 penalty; ``loss`` includes it."""

    penalty: torch.Tensor  # scalar


class RegularisedVAE(MLVAE):
    """The ML-VAE's encoder and decoder with per-observation C_i, S_i, trained on eq. 18."""

    def forward(
        self,
        x: torch.Tensor,
        group_ids: torch.Tensor,
        num_groups: int | None = None,
        generator: torch.Generator | None = None,
    ) -> RegularisedTerms:
        """Eq. 18 on a batch: ``group_ids`` (B,) only enter the penalty; ELBO terms are per observation."""
        if num_groups is None:
            num_groups = int(group_ids.max().item()) + 1
        enc = self.encode(x)
        own = torch.arange(x.shape[0], device=x.device)  # each observation its own content latent C_i
        terms = group_elbo_from_posteriors(self, x, enc.style, enc.content, own, generator)  # loss: -(1/N) sum_i ELBO_i
        penalty = pair_penalty(enc.content, group_ids, num_groups)
        fields = {f.name: getattr(terms, f.name) for f in dataclasses.fields(terms)}
        fields["loss"] = terms.loss + self.config.reg_lambda * penalty
        return RegularisedTerms(**fields, penalty=penalty)

