"""Does the decoded image show the group of its content? Trials judged by a model that never saw the ML-VAE.

A judge scores images against P groups (a face recogniser against P people's references, a classifier
against classes). Each trial draws two groups A != B, one photo x_a of A, k other photos of A and k photos of
B, and decodes (posterior means throughout):

- ``input``: x_a itself (the judge's ceiling), judged A;
- ``recon``: x_a's own style and own content, judged A;
- ``pooled``: x_a's style with the content pooled from the k other photos of A, judged A;
- ``swap->C``: x_a's style with the content pooled from the k photos of B, judged B;
- ``swap->S``: the same image, judged A (low is good: the style does not carry the group);
- ``pairwise``: the same image scores higher for B than for A (chance 50%);
- ``gen``: the content pooled from B's k photos with styles from the prior, judged B.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from mlvae.latent import decode, encode, pool_each
from mlvae.model.interface import GroupedVAE

FIGURES = ("input", "recon", "pooled", "swap->C", "swap->S", "pairwise", "gen")
Scorer = Callable[[torch.Tensor], np.ndarray]  # images (N, C, H, W) -> scores (N, P), higher = more likely


@dataclass
class TrialResult:
    """Per-figure % of trials, with the number of groups judged among (chance = 100 / groups)."""

    figures: dict[str, float]
    groups: int
    trials: int
    k: int

    @property
    def chance(self) -> float:
        return 100.0 / self.groups


@dataclass
class TrialDraws:
    """Indices of one batch of trials: group ids (T,), x_a (T,), A's k other photos (T, k), B's k photos (T, k)."""

    a: np.ndarray
    b: np.ndarray
    photo: np.ndarray
    own: np.ndarray
    other: np.ndarray


def draw_trials(groups: np.ndarray, k: int, trials: int, seed: int = 0) -> TrialDraws:
    """Random trials over ``groups`` (N,) labels 0..P-1; every group needs at least k + 1 images."""
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(groups == g) for g in range(int(groups.max()) + 1)]
    if len(members) < 2 or min(len(m) for m in members) < k + 1:
        raise ValueError(f"trials need at least 2 groups of at least k + 1 = {k + 1} images each")
    a = np.empty(trials, np.int64)
    b = np.empty(trials, np.int64)
    photo = np.empty(trials, np.int64)
    own = np.empty((trials, k), np.int64)
    other = np.empty((trials, k), np.int64)
    for t in range(trials):
        a[t], b[t] = rng.choice(len(members), size=2, replace=False)
        picked = rng.choice(members[a[t]], size=k + 1, replace=False)
        photo[t], own[t] = picked[0], picked[1:]
        other[t] = rng.choice(members[b[t]], size=k, replace=False)
    return TrialDraws(a, b, photo, own, other)


@torch.no_grad()
def run_trials(
    model: GroupedVAE, images: torch.Tensor, groups: np.ndarray, score: Scorer, k: int = 5, trials: int = 400,
    seed: int = 0, batch_size: int = 256,
) -> TrialResult:
    """The FIGURES for ``images`` (N, C, H, W) uint8 with labels ``groups`` (N,) in 0..P-1, as % of trials."""
    draws = draw_trials(groups, k, trials, seed)
    enc = encode(model, images, batch_size=batch_size)
    device = enc.content.mean.device
    photo, own, other = (torch.as_tensor(v, device=device) for v in (draws.photo, draws.own, draws.other))
    style = enc.style.mean[photo]
    prior = torch.randn(style.shape, generator=torch.Generator(device).manual_seed(seed), device=device)
    pooled_own = pool_each(enc.content, own).mean
    pooled_other = pool_each(enc.content, other).mean

    def decoded(content: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        return torch.cat([decode(model, content[i : i + batch_size], styles[i : i + batch_size])
                          for i in range(0, content.shape[0], batch_size)])

    scores = {
        "input": score(images[draws.photo]),
        "recon": score(decoded(enc.content.mean[photo], style)),
        "pooled": score(decoded(pooled_own, style)),
        "swap": score(decoded(pooled_other, style)),
        "gen": score(decoded(pooled_other, prior)),
    }
    rows = np.arange(trials)

    def hit(name: str, target: np.ndarray) -> float:
        return float(100.0 * (scores[name].argmax(axis=1) == target).mean())

    figures = {
        "input": hit("input", draws.a), "recon": hit("recon", draws.a), "pooled": hit("pooled", draws.a),
        "swap->C": hit("swap", draws.b), "swap->S": hit("swap", draws.a),
        "pairwise": float(100.0 * (scores["swap"][rows, draws.b] > scores["swap"][rows, draws.a]).mean()),
        "gen": hit("gen", draws.b),
    }
    return TrialResult(figures, int(groups.max()) + 1, trials, k)


def choose_groups(groups: np.ndarray, count: int, min_images: int, seed: int = 0) -> np.ndarray:
    """Up to ``count`` group labels (sorted) among those with at least ``min_images`` images, at random."""
    labels, sizes = np.unique(groups, return_counts=True)
    eligible = labels[sizes >= min_images]
    if len(eligible) > count:
        eligible = np.random.default_rng(seed).choice(eligible, size=count, replace=False)
    return np.sort(eligible)
