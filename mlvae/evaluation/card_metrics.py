"""The measured figures a model card's front matter states: held-out ELBO and reconstruction errors."""
from __future__ import annotations

import torch

from mlvae import latent
from mlvae.config import RunConfig
from mlvae.data.grouped import GroupedImages
from mlvae.data.images import to_float
from mlvae.model.interface import GroupedVAE
from mlvae.training.dataset_elbo import heldout_elbo


@torch.no_grad()
def reconstruction_errors(model: GroupedVAE, images: GroupedImages, batch_size: int = 500) -> dict[str, float]:
    """Mean squared error per pixel of strategy-1 reconstructions (posterior means) and of the mean image."""
    x = to_float(images.images)
    mean_image = x.mean(0, keepdim=True)
    recon_se = 0.0
    for i in range(0, x.shape[0], batch_size):
        part = x[i : i + batch_size]
        recon_se += (latent.reconstruct(model, part, pooled=False, mode="mean") - part).pow(2).sum().item()
    return {
        "test_reconstruction_mse": recon_se / x.numel(),
        "mean_image_mse": (x - mean_image).pow(2).mean().item(),
    }


def card_metrics(model: GroupedVAE, config: RunConfig, test: GroupedImages) -> dict[str, float]:
    """Everything the card's front matter states about ``test``: held-out ELBO and reconstruction errors."""
    metrics = heldout_elbo(model, test, config.train, prefix="test")
    metrics.update(reconstruction_errors(model, test))
    metrics["test_images"] = len(test)
    metrics["test_groups"] = test.group_count
    return metrics
