"""Latents fitted to one image by gradient ascent: what the decoder can render, apart from what the encoder finds.

The encoder's posterior mean is one guess at the latents of a photo (amortised inference). Fitting (c, s) to the
photo itself by Adam, starting from that guess, gives the decoder's best rendering of it: under the MAP objective
log p(x | c, s) + log p(c) + log p(s) (the paper's likelihood and N(0, I) priors), or under the likelihood alone
(the decoder's range). When even these decodes miss the person, no encoder or objective change can make the
model's reconstructions show them: the decoder is what limits.
"""
from __future__ import annotations

import torch

from mlvae.model.interface import GroupedVAE


def fit_objective(model: GroupedVAE, x: torch.Tensor, content: torch.Tensor, style: torch.Tensor,
                  prior: bool = True) -> torch.Tensor:
    """Per-image objective (B,): log p(x | c, s), plus the N(0, I) log-priors of c (B, d) and s (B, d_s) (up
    to constants) when ``prior``."""
    value = model.decode_params(content, style).log_prob(x)
    if prior:
        value = value - 0.5 * (content.square().sum(-1) + style.square().sum(-1))
    return value


def fit_latents(model: GroupedVAE, x: torch.Tensor, content: torch.Tensor, style: torch.Tensor, steps: int = 300,
                lr: float = 0.05, prior: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Content (B, d) and style (B, d_s) of the images ``x`` (B, C, H, W) in [0, 1], fitted by ``steps`` Adam
    steps on ``fit_objective`` from the given start; the model's weights do not change (eval mode)."""
    was_training = model.training
    model.eval()
    weights = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        c, s = content.detach().clone().requires_grad_(), style.detach().clone().requires_grad_()
        optimiser = torch.optim.Adam([c, s], lr=lr)
        for _ in range(steps):
            loss = -fit_objective(model, x, c, s, prior).sum()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
    finally:
        for p, flag in zip(model.parameters(), weights, strict=True):
            p.requires_grad_(flag)
        model.train(was_training)
    return c.detach(), s.detach()
