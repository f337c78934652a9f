"""Per-observation log-likelihoods log p(x | c, s) of the decoder's output, summed over pixels."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from mlvae.model.posterior import normal_log_prob


def normal_log_likelihood(x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """sum over pixels of log N(x; mean, exp(logvar)): (B, C, H, W) -> (B,)."""
    return normal_log_prob(x, mean, logvar).flatten(1).sum(-1)


def bernoulli_log_likelihood(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """sum over pixels of log Bernoulli(x; sigmoid(logits)), x in [0, 1]: (B, C, H, W) -> (B,)."""
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(-1)


def log_likelihood(x: torch.Tensor, params: tuple[torch.Tensor, torch.Tensor | None]) -> torch.Tensor:
    """Log-likelihood (B,) under the decoder's ``(mean or logits, logvar or None)``."""
    location, logvar = params
    if logvar is None:
        return bernoulli_log_likelihood(x, location)
    return normal_log_likelihood(x, location, logvar)


def decoded_mean(params: tuple[torch.Tensor, torch.Tensor | None]) -> torch.Tensor:
    """The decoded image (the likelihood's mean) in [0, 1]: (B, C, H, W)."""
    location, logvar = params
    return torch.sigmoid(location) if logvar is None else location
