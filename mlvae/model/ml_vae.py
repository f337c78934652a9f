"""The ML-VAE model (and the plain VAE baseline, which shares every network and line of code)."""
from __future__ import annotations

import torch

from mlvae.config import ModelConfig
from mlvae.model.interface import Encoding, GroupedVAE
from mlvae.model.likelihood import Decoded
from mlvae.model.networks import build_networks
from mlvae.model.objective import ObjectiveTerms, group_elbo
from mlvae.model.posterior import DiagonalNormal


class MLVAE(GroupedVAE):
    """Encoder + decoder of the ML-VAE; the objective lives in ``mlvae.model.objective``.

    With ``config.model_type == "vae"`` the same networks form a plain VAE: every observation is its own
    group, so (content, style) is one 2d-dimensional per-observation latent.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.encoder, self.decoder = build_networks(config)

    def encode(self, x: torch.Tensor) -> Encoding:
        """Images (B, C, H, W) in [0, 1] -> per-observation style and content posteriors."""
        # float32 from here on: under bf16 autocast the posterior math must stay in full precision
        s_mean, s_logvar, c_mean, c_logvar = (t.float() for t in self.encoder(x))
        return Encoding(DiagonalNormal(s_mean, s_logvar), DiagonalNormal(c_mean, c_logvar))

    def decode_params(self, content: torch.Tensor, style: torch.Tensor) -> Decoded:
        """p(x | c, s) for latents c (B, d) and s (B, d_s), its parameters (B, C, H, W) in float32."""
        return self.decoder(torch.cat([content, style], dim=-1)).float()

    def forward(self, x: torch.Tensor, group_ids: torch.Tensor, num_groups: int | None = None) -> ObjectiveTerms:
        """The group ELBO terms of a batch (see ``mlvae.model.objective.group_elbo``); DDP calls this."""
        return group_elbo(self, x, group_ids, num_groups)
