"""An adversarial patch term for the decoder: a labelled departure from the paper, off by default.

A pixel-wise Normal likelihood at 64x64 settles on the blurry mean of what it cannot place. Following VAE-GAN
(Larsen et al. 2016) and VQGAN (Esser et al. 2021), a patch discriminator learns to tell training photos from the
decoder's reconstructions of them, and the decoder is also trained to fool it:

    loss = -ELBO + w * lambda * L_G,   L_G = -mean D(x_hat)                 (VQGAN's generator hinge term)
    lambda = ||grad_{W_L} (-ELBO)|| / (||grad_{W_L} L_G|| + 1e-4)           (VQGAN eq. 7: W_L, the last layer)

so ``w`` (``--adversarial-weight``) is the adversarial gradient's size relative to the likelihood's at the decoder's
last layer, whatever the likelihood's scale. The discriminator minimises the hinge loss
mean relu(1 - D(x)) + mean relu(1 + D(x_hat)). The inference stays the paper's (per-image posteriors, the product
of Normals, every KL term; the term reaches the encoders through the reconstruction, as the likelihood does), and
validation still reports the ELBO alone.
"""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from mlvae.checkpoint.folder import atomic_write, read_tensors
from mlvae.training.decoder_term import DecoderTerm, TermSetup, TermStep
from mlvae.training.state import TrainingError, optimizer_tensors, restore_optimizer

DISCRIMINATOR_NAME = "discriminator.safetensors"
DISCRIMINATOR_BETAS = (0.5, 0.9)  # VQGAN's Adam betas for both networks' adversarial game


class PatchDiscriminator(nn.Module):
    """PatchGAN discriminator (Isola et al. 2017; VQGAN's, at half its width): (B, C, 64, 64) -> (B, 1, 6, 6) logits.

    Each logit judges one overlapping 70x70-receptive-field patch, so it rewards local sharpness, not a whole face."""

    def __init__(self, channels: int = 3, width: int = 32) -> None:
        super().__init__()
        c = [width, 2 * width, 4 * width, 8 * width]
        self.net = nn.Sequential(
            nn.Conv2d(channels, c[0], 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c[0], c[1], 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c[1]),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c[1], c[2], 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c[2]),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c[2], c[3], 4, stride=1, padding=1, bias=False), nn.BatchNorm2d(c[3]),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c[3], 1, 4, stride=1, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) in [0, 1] -> (B, 1, h, w) patch logits (real > 0)."""
        return self.net(2.0 * x - 1.0)


def discriminator_hinge_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """mean relu(1 - D(x)) + mean relu(1 + D(x_hat)): scalar."""
    return torch.relu(1.0 - real_logits).mean() + torch.relu(1.0 + fake_logits).mean()


class AdversarialTerm(DecoderTerm):
    """The discriminator, its optimiser and the decoder's adversarial loss (see the module docstring)."""

    def __init__(self, weight: float, start_step: int, channels: int, lr: float, device: torch.device) -> None:
        self.weight, self.start_step = weight, start_step
        self.discriminator = PatchDiscriminator(channels).to(device)
        self.optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=lr, betas=DISCRIMINATOR_BETAS)
        self.sums: dict[str, float] = {}
        self.count = 0

    @classmethod
    def build(cls, setup: TermSetup) -> AdversarialTerm | None:
        """The term of ``--adversarial-weight``, from ``--adversarial-start`` on."""
        tc = setup.config.train
        if not tc.adversarial_weight:
            return None
        if not setup.averages_weights:
            raise TrainingError(f"--adversarial-weight does not apply to --model {setup.config.model.model_type}: "
                                "leave it out")
        if setup.world_size > 1:
            raise TrainingError("--adversarial-weight trains one discriminator in one process: run it without torchrun")
        return cls(tc.adversarial_weight, tc.adversarial_start, setup.config.model.image_channels, tc.lr, setup.device)

    def loss(self, step: TermStep) -> torch.Tensor | None:
        """w * lambda * L_G for the step's reconstructions, from ``start_step`` on."""
        if step.step < self.start_step:
            return None
        for p in self.discriminator.parameters():  # the decoder's term must not move the discriminator
            p.requires_grad_(False)
        try:
            generator = -self.discriminator(step.terms.reconstruction).mean()
        finally:
            for p in self.discriminator.parameters():
                p.requires_grad_(True)
        lam = step.relative(generator)
        self._record(generator=generator.item(), adaptive_weight=lam.item())
        return self.weight * lam * generator

    def after_step(self, step: TermStep) -> None:
        """One discriminator step on the batch's photos against their reconstructions."""
        self.discriminator_step(step.x, step.terms.reconstruction)

    def discriminator_step(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        """One hinge-loss step on photos (B, C, H, W) against reconstructions (B, C, H, W), both in [0, 1]."""
        logits = self.discriminator(torch.cat([real, fake.detach()]))
        real_logits, fake_logits = logits.split([real.shape[0], fake.shape[0]])
        loss = discriminator_hinge_loss(real_logits, fake_logits)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self._record(discriminator=loss.item(), real_logit=real_logits.mean().item(),
                     fake_logit=fake_logits.mean().item())

    def _record(self, **values: float) -> None:
        if "discriminator" in values:
            self.count += 1
        for name, value in values.items():
            self.sums[name] = self.sums.get(name, 0.0) + value

    def summary(self) -> dict[str, float]:
        """Means since the last call of the recorded figures (``adv_discriminator``, ``adv_adaptive_weight``, ...)."""
        figures = {f"adv_{name}": total / max(self.count, 1) for name, total in self.sums.items()}
        self.sums, self.count = {}, 0
        return figures

    def save(self, folder: Path) -> dict:
        """Write the discriminator and its optimiser into ``folder`` (atomic); returns the optimiser's JSON part."""
        tensors, meta = optimizer_tensors(self.optimizer)
        tensors.update({f"net.{k}": v.detach().cpu().contiguous() for k, v in self.discriminator.state_dict().items()})
        atomic_write(folder / DISCRIMINATOR_NAME, lambda tmp: save_file(tensors, str(tmp)))
        return {"discriminator_optimizer": meta}

    def restore(self, folder: Path, record: dict) -> None:
        """Inverse of ``save``; a run saved without a discriminator keeps the fresh one."""
        path = folder / DISCRIMINATOR_NAME
        if not path.exists() or "discriminator_optimizer" not in record:
            return
        meta = record["discriminator_optimizer"]
        tensors = read_tensors(path)
        self.discriminator.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
        device = next(self.discriminator.parameters()).device
        restore_optimizer(self.optimizer, {k: v.to(device) for k, v in tensors.items() if k.startswith("opt.")}, meta)
