"""How much of a latent code the encoder uses: KL to the prior per dimension, and how many dimensions carry information.

A dimension whose posterior stays at the prior (KL near 0 for every photo) is unread by the decoder: a content of 256
numbers with 60 informative dimensions is a code of 60 numbers. A dimension counts as informative when its KL,
averaged over the photos, is above 0.1 nats.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from mlvae.model.posterior import DiagonalNormal, kl_per_dimension

INFORMATIVE_NATS = 0.1


@dataclass(frozen=True)
class CodeUsage:
    """A latent's mean KL per photo (nats), and how many of its dimensions average more than ``threshold`` nats."""

    nats_per_photo: float
    informative: int
    dims: int
    threshold: float = INFORMATIVE_NATS

    def text(self) -> str:
        """``512 nats per photo, 256 of 256 dimensions above 0.1 nats``."""
        return (f"{self.nats_per_photo:.0f} nats per photo, {self.informative} of {self.dims} dimensions above "
                f"{self.threshold:g} nats")

    def as_json(self) -> dict:
        return asdict(self)


def code_usage(posterior: DiagonalNormal, threshold: float = INFORMATIVE_NATS) -> CodeUsage:
    """The usage of a code from per-photo posteriors (N, d): each photo's own posterior, not a pooled one."""
    if posterior.mean.shape[0] == 0:
        raise ValueError("code usage needs at least one photo's posterior")
    per_dim = kl_per_dimension(posterior).mean(0)  # (d,)
    return CodeUsage(float(per_dim.sum()), int((per_dim > threshold).sum()), per_dim.numel(), threshold)
