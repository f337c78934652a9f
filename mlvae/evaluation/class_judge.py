"""The class judge: a small CNN, trained on real training images only (never on model outputs), says which
class a decoded image shows; its verdicts on swaps and generations are the trials of ``mlvae.evaluation.swap_trials``.

For class-grouped data (digits, Fashion-MNIST, a labelled folder whose test classes are training classes).
The faces counterpart, for unseen identities, is the identity judge (``mlvae.evaluation.identity``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mlvae.data.grouped import GroupedImages
from mlvae.data.images import to_float
from mlvae.errors import DataError
from mlvae.evaluation.swap_trials import TrialResult, run_trials
from mlvae.model.interface import GroupedVAE


class JudgeCNN(nn.Module):
    """Two 3x3 conv layers (16, 32 channels; ReLU, 2x2 max-pool), a 7x7 adaptive pool, 128 ReLU units, logits."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(7), nn.Flatten(), nn.Linear(32 * 49, 128), nn.ReLU(), nn.Linear(128, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, C, H, W) float in [0, 1] -> class logits (B, num_classes)."""
        return self.net(x)


@dataclass
class Judge:
    """A trained judge and the class names its logits follow."""

    net: JudgeCNN
    class_names: list[str]


def train_judge(train: GroupedImages, epochs: int = 3, batch_size: int = 64, lr: float = 2e-3, seed: int = 0) -> Judge:
    """Adam on the real images (N, C, H, W) uint8 of ``train``, labelled by their group."""
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = JudgeCNN(train.images.shape[1], train.num_groups)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(train), generator=gen).split(batch_size):
            loss = F.cross_entropy(net(to_float(train.images[idx])), train.groups[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return Judge(net.eval(), list(train.group_names))


@torch.no_grad()
def judge_logits(judge: Judge, images: torch.Tensor, batch_size: int = 512) -> np.ndarray:
    """Class logits (N, classes) of images (N, C, H, W), uint8 or float in [0, 1], on any device."""
    parts = []
    for i in range(0, images.shape[0], batch_size):
        x = images[i : i + batch_size].cpu()
        parts.append(judge.net(to_float(x) if x.dtype == torch.uint8 else x.float()).numpy())
    return np.concatenate(parts) if parts else np.zeros((0, len(judge.class_names)), np.float32)


def judge_columns(judge: Judge, test: GroupedImages) -> np.ndarray:
    """For each test group, its column in the judge's logits; DataError when a group is not a judge class."""
    known = {name: i for i, name in enumerate(judge.class_names)}
    unknown = [name for name in test.group_names if name not in known]
    if unknown:
        raise DataError(
            f"the class judge knows only the training classes; test group {unknown[0]!r} is not one of them "
            "(unseen groups, e.g. face identities, need the identity judge)"
        )
    return np.array([known[name] for name in test.group_names])


def judge_accuracy(judge: Judge, test: GroupedImages) -> float:
    """% of the real test images the judge classifies as their own class."""
    columns = judge_columns(judge, test)
    predicted = judge_logits(judge, test.images).argmax(axis=1)
    return float(100.0 * (predicted == columns[test.groups.numpy()]).mean())


def class_trials(
    model: GroupedVAE, judge: Judge, test: GroupedImages, k: int = 5, trials: int = 1000, seed: int = 0
) -> TrialResult:
    """Swap/generation trials (``mlvae.evaluation.swap_trials.FIGURES``) on ``test``, judged among its classes only."""
    columns = judge_columns(judge, test)
    present = np.unique(test.groups.numpy())  # groups the test set holds, in label order
    labels = np.searchsorted(present, test.groups.numpy())  # 0..P-1 over the present groups
    keep = columns[present]
    return run_trials(model, test.images, labels, lambda x: judge_logits(judge, x)[:, keep], k, trials, seed)
