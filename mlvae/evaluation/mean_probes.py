"""Probe (b), linear and MLP probes on posterior means: how much of the class a read-out finds in a latent code.

Probe (a), the supplement §3 protocol (``mlvae.evaluation.supplement_probe``), trains on posterior *samples* of
K images per class pooled over all K, and tests at k = 1..K: it asks how well a classifier of tightly pooled
content generalises to wider posteriors. A probe asks what the code of an image (or of k pooled images) holds: it
is trained and tested at the SAME pooling level k, on posterior *means*, on many images. Per class, ``train_per_class``
training images (to fit, and a quarter for early stopping) and ``test_per_class`` other images to test on; the
images pooled into a feature come from the same part (training or test), so train and test share no image.
Classes are balanced (chance = 1/classes).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from mlvae.errors import DataError
from mlvae.evaluation.supplement_probe import (
    FeatureSource,
    ProtocolConfig,
    TrialSplit,
    block_labels,
    cross_entropy_bits,
    posterior_at,
    train_classifier,
)
from mlvae.model.posterior import DiagonalNormal

PROBES = {"linear": 0, "MLP": 2}  # probe name: tanh hidden layers of ``hidden_units`` (0: softmax regression)


@dataclass
class ProbeConfig:
    """Settings of the means probes; saved with their results."""

    train_per_class: int = 400  # fit + early-stopping images per class
    test_per_class: int = 400
    min_class_images: int = 20  # classes with fewer images are left out (e.g. people with a few photos)
    val_fraction: float = 0.25  # of the training images, for early stopping
    ks: tuple[int, ...] = (1, 5, 10)  # pooling levels of pooled features (content, a baseline's latent)
    hidden_units: int = 256
    lr: float = 3e-3
    batch_size: int = 128
    max_epochs: int = 300
    patience: int = 20
    seed: int = 0


def probe_split(labels: torch.Tensor, config: ProbeConfig) -> TrialSplit:
    """Per class, disjoint fit / validation / test images: (num_classes, n) indices into ``labels`` each.

    Every class gets the same n (the smallest class kept decides), so the probe's chance is 1 / classes; classes
    of fewer than ``min_class_images`` images are left out."""
    classes, counts = torch.unique(labels, return_counts=True)
    keep = counts >= config.min_class_images
    classes, counts = classes[keep], counts[keep]
    smallest = int(counts.min()) if len(classes) else 0
    test = min(config.test_per_class, smallest // 2)
    train = min(config.train_per_class, smallest - test)
    val = max(1, round(train * config.val_fraction))
    if len(classes) < 2 or train - val < 1 or test < 1:
        raise DataError(f"the probes need at least 2 classes of at least max(3, min_class_images = "
                        f"{config.min_class_images}) images (smallest kept: {smallest})")
    rng = np.random.default_rng(config.seed)
    rows = [rng.permutation((labels == c).nonzero().flatten().numpy())[: train + test] for c in classes.tolist()]
    block = torch.from_numpy(np.stack(rows)).long()  # (num_classes, train + test)
    return TrialSplit(block[:, : train - val], block[:, train - val : train], block[:, train:])


def probe_ks(split: TrialSplit, ks: tuple[int, ...]) -> list[int]:
    """The pooling levels that both parts can serve (k images of a class within the training or the test part)."""
    return [k for k in ks if k <= min(split.train.shape[1] + split.val.shape[1], split.test.shape[1])]


def fit_probe(
    source: FeatureSource, split: TrialSplit, k: int, hidden_layers: int, config: ProbeConfig,
    generator: torch.Generator,
) -> dict[str, float]:
    """Train one probe on means at pooling level k and test it at the same k: accuracy and bits.

    Training features (fit and early-stopping images) pool within the training part, test features within
    the test part."""
    training = torch.cat([split.train, split.val], dim=1)  # (num_classes, fit + val)
    features = posterior_at(source, training, k, generator).mean.view(*training.shape, -1)
    fit = split.train.shape[1]
    train_x, val_x = features[:, :fit].flatten(0, 1), features[:, fit:].flatten(0, 1)
    protocol = ProtocolConfig(
        feature_mode="mean", hidden_units=config.hidden_units, hidden_layers=hidden_layers, lr=config.lr,
        batch_size=config.batch_size, max_epochs=config.max_epochs, patience=config.patience,
    )
    model, epochs = train_classifier(
        DiagonalNormal(train_x, torch.zeros_like(train_x)), block_labels(split.train), val_x,
        block_labels(split.val), split.train.shape[0], protocol, generator,
    )
    test_y = block_labels(split.test)
    with torch.no_grad():
        logits = model(posterior_at(source, split.test, k, generator).mean)
    return {"accuracy": (logits.argmax(1) == test_y).float().mean().item(), "bits": cross_entropy_bits(logits, test_y),
            "epochs": epochs}


def run_probes(labels: torch.Tensor, sources: dict[str, FeatureSource], config: ProbeConfig) -> dict:
    """Every probe on every feature kind (pooled kinds at each k, per-image kinds once); JSON-able results."""
    labels = labels.cpu()
    split = probe_split(labels, config)
    ks = probe_ks(split, config.ks)
    rows = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: more threads only add synchronisation
    try:
        for i, (name, source) in enumerate(sources.items()):
            source = FeatureSource(DiagonalNormal(source.posterior.mean.detach().cpu(),
                                                  source.posterior.logvar.detach().cpu()), source.pooled)
            for k in ks if source.pooled else [1]:
                row: dict = {"features": name, "k": k if source.pooled else None,
                             "accuracy": {}, "bits": {}, "epochs": {}}
                for j, (probe, hidden_layers) in enumerate(PROBES.items()):
                    generator = torch.Generator().manual_seed(config.seed * 1_000_003 + i * 1009 + k * 31 + j)
                    result = fit_probe(source, split, k, hidden_layers, config, generator)
                    for key in ("accuracy", "bits", "epochs"):
                        row[key][probe] = result[key]
                rows.append(row)
    finally:
        torch.set_num_threads(threads)
    classes = split.train.shape[0]
    return {
        "config": asdict(config),
        "probes": {name: {"hidden_layers": layers, "hidden_units": config.hidden_units if layers else 0}
                   for name, layers in PROBES.items()},
        "num_classes": classes,
        "chance_accuracy": 1.0 / classes,
        "chance_bits": math.log2(classes),
        "fit_images": split.train.numel(),
        "val_images": split.val.numel(),
        "test_images": split.test.numel(),
        "ks": ks,
        "rows": rows,
    }
