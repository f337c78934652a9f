"""The decoder's likelihood p(x | c, s): pixels independent given the latents, one class per ``--likelihood``.

A ``Likelihood`` says how many parameter maps the decoder draws per image channel, turns them into its
parameters, and gives the log-density (summed over pixels), the mean (the decoded image) and samples. The
decoders hand back a ``Decoded`` (the likelihood and its parameters for a batch), which the objective, the
reference loop and the baselines use without knowing which likelihood it is. ``LIKELIHOOD_TYPES`` is the one
registry; ``register_likelihood`` adds a likelihood (and its name to the ``--likelihood`` choices).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, TypeVar

import torch
import torch.nn.functional as F

from mlvae.config import LIKELIHOODS, ModelConfig
from mlvae.model.posterior import bounded_logvar, normal_log_prob


def normal_log_likelihood(x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """sum over pixels of log N(x; mean, exp(logvar)): (B, C, H, W) -> (B,)."""
    return normal_log_prob(x, mean, logvar).flatten(1).sum(-1)


def bernoulli_log_likelihood(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """sum over pixels of log Bernoulli(x; sigmoid(logits)), x in [0, 1]: (B, C, H, W) -> (B,)."""
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(-1)


L = TypeVar("L", bound="Likelihood")


class Likelihood:
    """One likelihood of the decoder: ``name`` (its ``--likelihood`` value) and ``maps``, the parameter maps the
    decoder draws per image channel. Parameters are tensors of the image's shape (B, C, H, W)."""

    name: ClassVar[str]
    maps: ClassVar[int] = 1

    def __init__(self, config: ModelConfig) -> None:
        self.config = config

    def parameters(self, maps: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """The parameters from the decoder's ``maps`` raw maps, each (B, C, H, W)."""
        raise NotImplementedError

    def log_prob(self, x: torch.Tensor, params: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """log p(x | params) summed over pixels: images (B, C, H, W) in [0, 1] -> (B,)."""
        raise NotImplementedError

    def mean(self, params: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The likelihood's mean, the decoded image in [0, 1]: (B, C, H, W)."""
        raise NotImplementedError

    def sample(self, params: tuple[torch.Tensor, ...], generator: torch.Generator | None = None) -> torch.Tensor:
        """Images drawn from p(x | params): (B, C, H, W)."""
        raise NotImplementedError

    def decoded(self, maps: Sequence[torch.Tensor]) -> Decoded:
        """What a decoder returns for its raw ``maps``."""
        return Decoded(self, self.parameters(maps))


@dataclass
class Decoded:
    """The decoder's output for a batch: its likelihood and that likelihood's parameters, each (B, C, H, W)."""

    likelihood: Likelihood
    params: tuple[torch.Tensor, ...]

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x | c, s) summed over pixels: (B, C, H, W) -> (B,)."""
        return self.likelihood.log_prob(x, self.params)

    @property
    def mean(self) -> torch.Tensor:
        """The decoded images (the likelihood's mean) in [0, 1]: (B, C, H, W)."""
        return self.likelihood.mean(self.params)

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """Images drawn from p(x | c, s): (B, C, H, W)."""
        return self.likelihood.sample(self.params, generator)

    def float(self) -> Decoded:
        """The same in float32 (the objective's precision under bf16 autocast)."""
        return Decoded(self.likelihood, tuple(p.float() for p in self.params))


LIKELIHOOD_TYPES: dict[str, type[Likelihood]] = {}


def register_likelihood(cls: type[L]) -> type[L]:
    """Add a likelihood to the registry, and its name to the ``--likelihood`` choices (``mlvae.config``)."""
    LIKELIHOOD_TYPES[cls.name] = cls
    if cls.name not in LIKELIHOODS:
        LIKELIHOODS.append(cls.name)
    return cls


def unregister_likelihood(name: str) -> None:
    """Take a likelihood that ``register_likelihood`` added out again (the built-in names stay choices)."""
    cls = LIKELIHOOD_TYPES.pop(name)
    if cls not in BUILT_IN:
        LIKELIHOODS.remove(name)


@register_likelihood
class Normal(Likelihood):
    """Normal with a learned per-pixel log-variance, 5*tanh-bounded (the paper's faces decoder): (mean, logvar)."""

    name = "normal"
    maps = 2

    def parameters(self, maps: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        mean, raw = maps
        return torch.sigmoid(mean), bounded_logvar(raw)

    def log_prob(self, x: torch.Tensor, params: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return normal_log_likelihood(x, *params)

    def mean(self, params: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return params[0]

    def sample(self, params: tuple[torch.Tensor, ...], generator: torch.Generator | None = None) -> torch.Tensor:
        mean, logvar = params
        noise = torch.randn(mean.shape, generator=generator, device=mean.device)
        return mean + torch.exp(0.5 * logvar) * noise


@register_likelihood
class NormalFixed(Normal):
    """Normal with a fixed standard deviation ``--sigma`` per pixel: (mean, the constant log sigma^2)."""

    name = "normal-fixed"
    maps = 1

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.logvar = 2.0 * math.log(config.sigma)

    def parameters(self, maps: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        mean = torch.sigmoid(maps[0])
        return mean, torch.full_like(mean, self.logvar)


@register_likelihood
class NormalUnit(NormalFixed):
    """Normal with unit variance (the paper's MNIST decoder): (mean, zeros)."""

    name = "normal-unit"

    def __init__(self, config: ModelConfig) -> None:
        Likelihood.__init__(self, config)
        self.logvar = 0.0


@register_likelihood
class Bernoulli(Likelihood):
    """Bernoulli per pixel, x in [0, 1] read as a probability: (logits,)."""

    name = "bernoulli"

    def parameters(self, maps: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        return (maps[0],)

    def log_prob(self, x: torch.Tensor, params: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return bernoulli_log_likelihood(x, params[0])

    def mean(self, params: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return torch.sigmoid(params[0])

    def sample(self, params: tuple[torch.Tensor, ...], generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.bernoulli(torch.sigmoid(params[0]), generator=generator)


BUILT_IN = tuple(LIKELIHOOD_TYPES.values())


def likelihood_of(config: ModelConfig) -> Likelihood:
    """The likelihood ``config.likelihood`` names, for ``config``'s settings (e.g. ``sigma``)."""
    return LIKELIHOOD_TYPES[config.likelihood](config)
