"""The group ELBO of paper eq. 3, averaged over the groups of a minibatch (paper eq. 5).

ELBO(G) = sum_{i in G} log p(x_i | c_{G,i}, s_i) - sum_{i in G} KL(q(S_i|x_i) || N(0,I)) - KL(q(C_G|X_G) || N(0,I))
loss    = -(1 / number of groups) * sum_G ELBO(G)

One content sample c_{G,i} per observation from the group posterior (Algorithm 1, step 9); the content KL
counts once per group; all reparameterisation noise is N(0, I).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from mlvae.model.interface import GroupedVAE
from mlvae.model.posterior import (
    DiagonalNormal,
    check_group_ids,
    kl_to_standard_normal,
    mixture_kl_monte_carlo,
    mixture_sample,
    product_of_normals,
)


@dataclass
class ObjectiveTerms:
    """The loss and its parts for one minibatch of groups."""

    loss: torch.Tensor  # scalar: -(1/num_groups) sum_G ELBO(G)
    elbo: torch.Tensor  # (num_groups,) ELBO of each group
    log_likelihood: torch.Tensor  # (B,) log p(x_i | c_{G,i}, s_i)
    kl_style: torch.Tensor  # (B,) KL(q(S_i|x_i) || p(S))
    kl_content: torch.Tensor  # (num_groups,) KL(q(C_G|X_G) || p(C)), once per group
    content_sample: torch.Tensor  # (B, d) c_{G,i}
    style_sample: torch.Tensor  # (B, d) s_i
    group_ids: torch.Tensor  # (B,) group of each observation as used (arange(B) for the VAE)
    reconstruction: torch.Tensor  # (B, C, H, W) the decoded means of the samples, in [0, 1]

    @property
    def num_groups(self) -> int:
        return self.elbo.shape[0]

    @property
    def num_images(self) -> int:
        return self.log_likelihood.shape[0]


def group_elbo(
    model: GroupedVAE,
    x: torch.Tensor,
    group_ids: torch.Tensor,
    num_groups: int | None = None,
    generator: torch.Generator | None = None,
    noise: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> ObjectiveTerms:
    """Vectorised group ELBO of a batch holding many groups of different sizes.

    ``x``: (B, C, H, W) in [0, 1]; ``group_ids``: (B,) ints in [0, num_groups), every id present (else ValueError).
    ``noise``: optional fixed (content_eps, style_eps), each (B, d) standard normal (for tests and the
    per-group reference); otherwise drawn with ``generator``.
    """
    if not model.is_grouped:  # plain VAE: every observation is its own group
        group_ids = torch.arange(x.shape[0], device=x.device)
        num_groups = x.shape[0]
    else:
        if num_groups is None:
            num_groups = int(group_ids.max().item()) + 1 if group_ids.numel() else 0
        check_group_ids(group_ids, num_groups, x.shape[0])  # before any work: gaps would give a NaN loss
    enc = model.encode(x)
    if model.config.posterior == "mixture" and model.is_grouped:
        if noise is not None:
            raise ValueError("fixed noise is only supported for the product-of-normals posterior")
        content_sample = mixture_sample(enc.content, group_ids, generator)
        kl_content = mixture_kl_monte_carlo(content_sample, enc.content, group_ids, num_groups)
        style_sample = enc.style.rsample(generator)
        return elbo_terms(model, x, enc.style, content_sample, style_sample, kl_content, group_ids)
    group_q = product_of_normals(enc.content, group_ids, num_groups)
    return group_elbo_from_posteriors(model, x, enc.style, group_q, group_ids, generator, noise)


def group_elbo_from_posteriors(
    model: GroupedVAE,
    x: torch.Tensor,
    style: DiagonalNormal,
    group_content: DiagonalNormal,
    group_ids: torch.Tensor,
    generator: torch.Generator | None = None,
    noise: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> ObjectiveTerms:
    """Group ELBO (eq. 3) given the posteriors: style (B, d) per observation, content (num_groups, d) per group.

    Shared by the ML-VAE (content pooled by eq. 7) and the baselines whose posteriors come from elsewhere
    (SVI's free parameters, the regularised VAE's per-observation content).
    """
    kl_content = kl_to_standard_normal(group_content)
    per_obs = group_content.index(group_ids)  # each observation draws its own c_{G,i}
    if noise is None:
        content_sample, style_sample = per_obs.rsample(generator), style.rsample(generator)
    else:
        content_sample = _shift_scale(per_obs, noise[0])
        style_sample = _shift_scale(style, noise[1])
    return elbo_terms(model, x, style, content_sample, style_sample, kl_content, group_ids)


def elbo_terms(
    model: GroupedVAE,
    x: torch.Tensor,
    style: DiagonalNormal,
    content_sample: torch.Tensor,
    style_sample: torch.Tensor,
    kl_content: torch.Tensor,
    group_ids: torch.Tensor,
) -> ObjectiveTerms:
    """Assemble eq. 3 from the samples (B, d) and the content KL (num_groups,): likelihood, style KL, sums."""
    num_groups = kl_content.shape[0]
    kl_style = kl_to_standard_normal(style)
    decoded = model.decode_params(content_sample, style_sample)
    ll = decoded.log_prob(x)
    per_obs_terms = torch.zeros(num_groups, dtype=ll.dtype, device=ll.device).index_add(0, group_ids, ll - kl_style)
    elbo = per_obs_terms - kl_content
    return ObjectiveTerms(
        loss=-elbo.sum() / num_groups,
        elbo=elbo,
        log_likelihood=ll,
        kl_style=kl_style,
        kl_content=kl_content,
        content_sample=content_sample,
        style_sample=style_sample,
        group_ids=group_ids,
        reconstruction=decoded.mean,
    )


def style_weighted_loss(terms: ObjectiveTerms, style_kl_weight: float) -> torch.Tensor:
    """The loss with the style KL weighted by ``style_kl_weight``: a labelled departure from eq. 3, used only
    in training (weight 1 is the ELBO's loss; held-out figures always use the ELBO)."""
    if style_kl_weight == 1.0:
        return terms.loss
    return terms.loss + (style_kl_weight - 1.0) * terms.kl_style.sum() / terms.num_groups


def annealed_weight(start: float, anneal_steps: int, step: int) -> float:
    """A weight that falls linearly from ``start`` at step 0 to 1 at ``anneal_steps`` (0: always ``start``)."""
    if anneal_steps <= 0:
        return start
    return start + (1.0 - start) * min(1.0, step / anneal_steps)


def _shift_scale(q: DiagonalNormal, eps: torch.Tensor) -> torch.Tensor:
    return q.mean + torch.exp(0.5 * q.logvar) * eps
