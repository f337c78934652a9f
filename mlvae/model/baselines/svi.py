"""The SVI baseline (paper Fig. 3a; supplement §2.1 "Specific case for SVI" and §7).

No encoder: the posteriors are free parameters, one row of a table per training image for the style,
q(S_i) = N(phi_{s,i}), and one row per training group for the content, q(C_G) = N(phi_{c,G}) (the
supplement's "embedding layer"). The decoder is the ML-VAE's, and training maximises the same group ELBO
(paper eq. 3 and 5, content KL once per group of the minibatch; a group subsampled to H counts its KL once,
as supplement eq. 15).

Test time has no amortised inference: ``infer`` runs an optimisation. It fits fresh per-image style and
per-group content parameters to the new images with the decoder frozen (Adam, ``config.inference_steps``
steps at ``config.inference_lr``), so one call costs that many decoder forward and backward passes instead
of one encoder pass (``benchmarks/svi_cost.py`` measures it). ``encode``, the interface the evaluation and
the demo use, runs ``infer`` with every image its own group (strategy 1); pooling then works as for the ML-VAE.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from tqdm import tqdm

from mlvae.config import ModelConfig
from mlvae.model.interface import Encoding, GroupedVAE
from mlvae.model.likelihood import Decoded
from mlvae.model.networks import build_networks
from mlvae.model.objective import ObjectiveTerms, group_elbo_from_posteriors
from mlvae.model.posterior import DiagonalNormal, bounded_logvar

INITIAL_LOGVAR = -3.0  # of every free posterior, in training and at test time (std 0.22)


class PosteriorTable(nn.Module):
    """Free diagonal-Normal parameters, one row each: mean (N, d) and a raw log-variance (N, d).

    The log-variance is 5*tanh(raw), the bound the encoders' heads use (supplement §2.1). A row starts with
    its mean drawn from the prior (as an embedding layer's default initialisation) and a log-variance of
    INITIAL_LOGVAR: each row is updated only when its image is in a batch (once per epoch), and with unit
    variances the decoder would see mostly noise and learn to ignore the latents before the rows move.
    """

    def __init__(self, rows: int, dim: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.mean = nn.Parameter(torch.randn((rows, dim), generator=generator))
        self.raw_logvar = nn.Parameter(torch.full((rows, dim), math.atanh(INITIAL_LOGVAR / 5.0)))

    def forward(self, rows: torch.Tensor | None = None) -> DiagonalNormal:
        """The posteriors of ``rows`` (k,), or of every row: (k, d)."""
        if rows is None:
            return DiagonalNormal(self.mean, bounded_logvar(self.raw_logvar))
        return DiagonalNormal(self.mean[rows], bounded_logvar(self.raw_logvar[rows]))


class SVI(GroupedVAE):
    """Per-observation style and per-group content parameters with the ML-VAE's decoder.

    ``config.svi_observations`` and ``config.svi_groups`` size the tables (the training images and groups
    the model was fitted to), so a checkpoint's ``config.json`` rebuilds it.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        _, self.decoder = build_networks(config)  # built beside an encoder, so its initialisation is the ML-VAE's
        self.style = PosteriorTable(config.svi_observations, config.style_size)
        self.content = PosteriorTable(config.svi_groups, config.latent_dim)

    def forward(
        self,
        x: torch.Tensor,
        group_ids: torch.Tensor,
        num_groups: int,
        rows: torch.Tensor,
        content_rows: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> ObjectiveTerms:
        """Group ELBO of a training batch: ``rows`` (B,) are the images' style rows, ``content_rows``
        (num_groups,) the content row of each batch group; ``group_ids`` (B,) as for the ML-VAE."""
        if content_rows.shape[0] != num_groups:
            raise ValueError(
                f"content_rows must hold one row per batch group ({num_groups}), got {content_rows.shape[0]}")
        return group_elbo_from_posteriors(self, x, self.style(rows), self.content(content_rows), group_ids, generator)

    def infer(
        self,
        x: torch.Tensor,
        group_ids: torch.Tensor | None = None,
        num_groups: int | None = None,
        steps: int | None = None,
        lr: float | None = None,
        generator: torch.Generator | None = None,
        progress: bool = False,
    ) -> tuple[DiagonalNormal, DiagonalNormal]:
        """Test-time inference: style (B, d) and group content (num_groups, d) posteriors of new images.

        Fresh parameters (initialised as in training) follow Adam on the group ELBO of ``x`` with the decoder
        frozen (its weights and BatchNorm statistics are left as trained). Without ``group_ids`` every
        image is its own group (strategy 1). ``generator`` seeds the initialisation and the reparameterisation
        noise (seed 0 if None), so the same call gives the same posteriors. ``progress`` shows a bar on a terminal.
        """
        steps = self.config.inference_steps if steps is None else steps
        lr = self.config.inference_lr if lr is None else lr
        if group_ids is None:
            group_ids, num_groups = torch.arange(x.shape[0], device=x.device), x.shape[0]
        elif num_groups is None:
            num_groups = int(group_ids.max().item()) + 1
        if generator is None:
            generator = torch.Generator(x.device).manual_seed(0)
        seed = torch.randint(2**62, (1,), generator=generator, device=generator.device)
        init = torch.Generator().manual_seed(int(seed))
        was_training = self.training
        trainable = [p for p in self.parameters() if p.requires_grad]
        self.eval()
        for p in trainable:
            p.requires_grad_(False)
        try:
            with torch.inference_mode(False), torch.enable_grad():  # callers may run under no_grad/inference_mode
                x, group_ids = x.clone(), group_ids.clone()  # tensors made in inference mode cannot enter autograd
                style = PosteriorTable(x.shape[0], self.style_dim, init).to(x.device)
                content = PosteriorTable(num_groups, self.latent_dim, init).to(x.device)
                optimizer = torch.optim.Adam([*style.parameters(), *content.parameters()], lr=lr)
                bar = tqdm(range(steps), desc=f"SVI inference on {x.shape[0]} images", leave=False,
                           disable=None if progress else True, mininterval=1.0)
                for _ in bar:
                    terms = group_elbo_from_posteriors(self, x, style(), content(), group_ids, generator)
                    # the sum, not the mean: each image's updates do not depend on how many share the call
                    optimizer.zero_grad(set_to_none=True)
                    (-terms.elbo.sum()).backward()
                    optimizer.step()
        finally:
            for p in trainable:
                p.requires_grad_(True)
            self.train(was_training)
        with torch.no_grad():
            return style(), content()

    def decode_params(self, content: torch.Tensor, style: torch.Tensor) -> Decoded:
        """p(x | c, s) for latents c (B, d) and s (B, d_s): the ML-VAE's decoder, its parameters in float32."""
        return self.decoder(torch.cat([content, style], dim=-1)).float()

    def encode(self, x: torch.Tensor) -> Encoding:
        """Runs test-time inference (``infer``), every image its own group: style and content (B, d) each."""
        style, content = self.infer(x.float(), progress=True)
        return Encoding(style, content)
