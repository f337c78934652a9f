"""A literal, per-group transcription of the paper's Algorithm 1, kept as the baseline the vectorised
objective is tested and benchmarked against. Not used for training."""
from __future__ import annotations

import torch

from mlvae.model.interface import GroupedVAE


def group_elbo_loop(
    model: GroupedVAE,
    x: torch.Tensor,
    group_ids: torch.Tensor,
    noise: tuple[torch.Tensor, torch.Tensor] | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Loss -(1/|G_b|) sum_G ELBO(G) computed one group at a time (Algorithm 1, steps 3-12)."""
    groups = torch.unique(group_ids)
    total = x.new_zeros(())
    for g in groups.tolist():  # step 3
        members = (group_ids == g).nonzero().flatten()
        s_mean, s_logvar, c_mean, c_logvar = model.encoder(x[members])  # steps 4-6
        precision = (1.0 / c_logvar.exp()).sum(0)  # step 7, paper eq. 7
        mean_g = (c_mean / c_logvar.exp()).sum(0) / precision
        var_g = 1.0 / precision
        elbo = -0.5 * (mean_g**2 + var_g - 1.0 - var_g.log()).sum()  # content KL, once per group
        if noise is not None:
            c_eps, s_eps = noise[0][members], noise[1][members]
        else:
            c_eps = torch.randn(s_mean.shape, generator=generator)
            s_eps = torch.randn(s_mean.shape, generator=generator)
        c = mean_g + var_g.sqrt() * c_eps  # steps 8-9: one content sample per observation
        s = s_mean + (0.5 * s_logvar).exp() * s_eps
        decoded = model.decoder(torch.cat([c, s], dim=-1))  # step 10
        elbo = elbo + decoded.log_prob(x[members]).sum()
        elbo = elbo - 0.5 * (s_mean**2 + s_logvar.exp() - 1.0 - s_logvar).sum()
        total = total + elbo
    return -total / len(groups)
