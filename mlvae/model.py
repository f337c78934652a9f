"""The ML-VAE model (and the plain VAE baseline, which shares every network and line of code)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .config import ModelConfig
from .likelihood import decoded_mean
from .networks import build_networks
from .posterior import DiagonalNormal


@dataclass
class Encoding:
    """Per-observation posteriors: style q(S_i|x_i) (B, d_s) and content evidence q(C_G|x_i) (B, d)."""

    style: DiagonalNormal
    content: DiagonalNormal


class MLVAE(nn.Module):
    """Encoder + decoder of the ML-VAE; the objective lives in ``mlvae.objective``.

    With ``config.model_type == "vae"`` the same networks form a plain VAE: every observation is its own
    group, so (content, style) is one 2d-dimensional per-observation latent.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder, self.decoder = build_networks(config)

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
        """True for the ML-VAE, False for the plain VAE baseline."""
        return self.config.model_type == "mlvae"

    def encode(self, x: torch.Tensor) -> Encoding:
        """Images (B, C, H, W) in [0, 1] -> per-observation style and content posteriors."""
        # float32 from here on: under bf16 autocast the posterior math must stay in full precision
        s_mean, s_logvar, c_mean, c_logvar = (t.float() for t in self.encoder(x))
        return Encoding(DiagonalNormal(s_mean, s_logvar), DiagonalNormal(c_mean, c_logvar))

    def decode_params(self, content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Likelihood parameters of p(x | c, s) for latents c (B, d) and s (B, d_s)."""
        location, logvar = self.decoder(torch.cat([content, style], dim=-1))
        return location.float(), None if logvar is None else logvar.float()

    def forward(self, x: torch.Tensor, group_ids: torch.Tensor, num_groups: int | None = None):
        """The group ELBO terms of a batch (see ``mlvae.objective.group_elbo``); DDP calls this."""
        from .objective import group_elbo  # objective imports this module

        return group_elbo(self, x, group_ids, num_groups)

    def decode(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Decoded images (the likelihood mean) in [0, 1]: (B, d), (B, d_s) -> (B, C, H, W)."""
        return decoded_mean(self.decode_params(content, style)).clamp(0.0, 1.0)
