"""A focal frequency term for the decoder (Jiang et al., ICCV 2021): a labelled departure from the paper, off by
default.

The Normal likelihood's squared error is the same in pixels and in an orthonormal Fourier basis (Parseval), so it
weighs every spatial frequency alike, and the decoder settles for the low ones it finds easy. The focal term adds
the squared error of each frequency weighted by how badly that frequency is reconstructed (its error magnitude to
the power alpha, normalised to [0, 1] per image and channel, no gradient through the weight), in the likelihood's
units (divided by 2 sigma^2, summed over pixels, per group as the ELBO), so ``--frequency-weight 1`` adds at most
as much again as the likelihood's own squared error.
"""
from __future__ import annotations

import torch


def focal_frequency_error(fake: torch.Tensor, real: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Per-image focal frequency error: (B, C, H, W) decoded and real images -> (B,) sum over frequencies."""
    diff = torch.fft.fft2(fake.float() - real.float(), norm="ortho")
    power = diff.real.square() + diff.imag.square()  # |F(fake) - F(real)|^2 per frequency
    with torch.no_grad():
        weight = power.sqrt().pow(alpha)
        weight = weight / weight.amax(dim=(-2, -1), keepdim=True).clamp_min(1e-12)
    return (weight * power).flatten(1).sum(-1)


def frequency_loss(fake: torch.Tensor, real: torch.Tensor, sigma: float, num_groups: int) -> torch.Tensor:
    """The focal term in the fixed-sigma likelihood's units, per group of the batch: scalar."""
    return focal_frequency_error(fake, real).sum() / (2.0 * sigma**2 * num_groups)
