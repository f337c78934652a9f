"""The measured figures a shipped checkpoint's model card states, and reading them back from the card.

The card (``README.md`` beside the weights) carries them in its YAML front matter under ``mlvae:``, so a test can
measure them again and compare.
"""
from __future__ import annotations

from pathlib import Path

import torch
import yaml

from . import latent
from .config import RunConfig
from .data.grouped import GroupedImages
from .elbo import heldout_elbo
from .images import to_float


@torch.no_grad()
def reconstruction_errors(model, images: GroupedImages, batch_size: int = 500) -> dict[str, float]:
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


def card_metrics(model, config: RunConfig, test: GroupedImages) -> dict[str, float]:
    """Everything the card's front matter states about ``test``: held-out ELBO and reconstruction errors."""
    metrics = heldout_elbo(model, test, config.train, prefix="test")
    metrics.update(reconstruction_errors(model, test))
    metrics["test_images"] = len(test)
    metrics["test_groups"] = int(test.groups.unique().numel())
    return metrics


def front_matter(metadata: dict) -> str:
    """YAML front matter block for a card."""
    return "---\n" + yaml.safe_dump(metadata, sort_keys=False) + "---\n"


def read_card_metrics(card: Path) -> dict[str, float]:
    """The ``mlvae:`` figures of a card's front matter."""
    text = card.read_text()
    if not text.startswith("---\n"):
        raise ValueError(f"{card} has no YAML front matter")
    return yaml.safe_load(text.split("---\n", 2)[1])["mlvae"]


def card_shortfall(card: Path) -> str | None:
    """The one line a card's front matter gives under ``mlvae: shortfall:`` when the model misses its goals."""
    try:
        text = card.read_text(encoding="utf-8", errors="replace")
        if not text.startswith("---\n"):
            return None
        value = (yaml.safe_load(text.split("---\n", 2)[1]) or {}).get("mlvae", {}).get("shortfall")
    except (OSError, yaml.YAMLError, AttributeError, IndexError):
        return None
    return value.strip() if isinstance(value, str) and value.strip() else None
