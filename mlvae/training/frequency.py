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

from mlvae.training.decoder_term import DecoderTerm, TermSetup, TermStep
from mlvae.training.state import TrainingError


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


class FocalFrequencyTerm(DecoderTerm):
    """``--frequency-weight`` times the focal term, in the likelihood's units (so part of the reported loss)."""

    in_elbo_units = True

    def __init__(self, weight: float, sigma: float) -> None:
        self.weight, self.sigma = weight, sigma

    @classmethod
    def build(cls, setup: TermSetup) -> FocalFrequencyTerm | None:
        """The term of ``--frequency-weight``, for ``--likelihood normal-fixed`` only (its units are that σ's)."""
        weight = setup.config.train.frequency_weight
        if not weight:
            return None
        if setup.config.model.likelihood != "normal-fixed":
            raise TrainingError("--frequency-weight is in the units of --likelihood normal-fixed: give that likelihood")
        return cls(weight, setup.config.model.sigma)

    def loss(self, step: TermStep) -> torch.Tensor:
        """w * the focal term of the step's reconstructions, per group: scalar."""
        return self.weight * frequency_loss(step.terms.reconstruction, step.x, self.sigma, step.terms.num_groups)
