"""The interface every model of this package implements: what the objective, the latent operations of
``mlvae.latent``, the evaluation and the demo call. The ML-VAE and every baseline are ``GroupedVAE``s."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
from torch import nn

from mlvae.config import ModelConfig
from mlvae.model.likelihood import Decoded
from mlvae.model.posterior import DiagonalNormal
from mlvae.model_kinds import MODEL_KINDS


@dataclass
class Encoding:
    """Per-observation posteriors: style q(S_i|x_i) (B, d_s) and content evidence q(C_G|x_i) (B, d)."""

    style: DiagonalNormal
    content: DiagonalNormal


class GroupedVAE(nn.Module, ABC):
    """A latent-variable model of grouped images with a content latent (d) and a style latent (d_s).

    ``encode`` gives per-observation posteriors (pooling them into a group's content is the caller's:
    ``mlvae.latent``); ``decode_params`` gives the likelihood's parameters; ``forward`` gives the training
    objective's terms (``mlvae.model.objective.ObjectiveTerms``) of a batch.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config

    @property
    def latent_dim(self) -> int:
        """d, the size of the content."""
        return self.config.latent_dim

    @property
    def style_dim(self) -> int:
        """d_s, the size of the style (d unless the config says otherwise)."""
        return self.config.style_size

    @property
    def is_grouped(self) -> bool:
        """True when observations of a group share one content latent (False: every image is its own group)."""
        return MODEL_KINDS[self.config.model_type].pools

    @abstractmethod
    def encode(self, x: torch.Tensor) -> Encoding:
        """Images (B, C, H, W) in [0, 1] -> per-observation style (B, d_s) and content (B, d) posteriors."""

    @abstractmethod
    def decode_params(self, content: torch.Tensor, style: torch.Tensor) -> Decoded:
        """p(x | c, s) for latents c (B, d) and s (B, d_s): the likelihood and its parameters (B, C, H, W)."""

    def decode(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Decoded images (the likelihood mean) in [0, 1]: (B, d), (B, d_s) -> (B, C, H, W)."""
        return self.decode_params(content, style).mean.clamp(0.0, 1.0)
