"""Probe (a), the quantitative evaluation of supplement §3: how much a latent code tells about the class.

A classifier (linear 256 -> tanh -> linear -> softmax, Adam 1e-3) is trained on latent features of TEST
images, once per feature kind (style S, content C, a baseline's latent). Per trial, every class with at least
3K images contributes K images each to the classifier's own train, validation and test sets (disjoint).

Features of an image at pooling level k: its posterior pooled (product of Normals, paper eq. 7) with k - 1
other images of its class drawn from the SAME set; the classifier trains at k = K (supplement §3) and is
tested at every k = 1..K. The style is per image, so S features do not pool: they are the image's own style
at every k. Features are posterior samples (supplement eq. 4; fresh draws every training epoch) or means.
Validation covers the k of ``checkpoint_ks`` (1..10, then a few up to K), so early stopping picks the
classifier that serves the whole test range.
Cross-entropy is reported in bits, an upper bound on H(class | features) (supplement eq. 6).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from mlvae.errors import DataError
from mlvae.latent import pick, pool_each
from mlvae.model.posterior import DiagonalNormal

CHECKPOINT_KS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 30, 50, 75, 100)


def checkpoint_ks(max_k: int) -> list[int]:
    """The k the classifier is validated at (and the report's table shows): 1..10, a few larger, always K."""
    return sorted({k for k in CHECKPOINT_KS if k <= max_k} | {max_k})


@dataclass
class ProtocolConfig:
    """Settings of the classifier protocol; saved with its results."""

    max_k: int = 20  # K: images pooled per class for training features; k = 1..K at test time
    trials: int = 5  # repetitions with different test images (supplement §3 uses 5)
    seed: int = 0
    feature_mode: str = "sample"  # "sample" (supplement eq. 4) or "mean" of the (pooled) posterior
    hidden_units: int = 256
    hidden_layers: int = 1  # tanh layers of hidden_units: 1 is supplement §3.1; 0 is a linear (softmax) probe
    lr: float = 1e-3
    batch_size: int = 64
    max_epochs: int = 300
    patience: int = 20  # epochs without a better validation cross-entropy before stopping


@dataclass
class FeatureSource:
    """Per-image posteriors (N, d) of every test image, and whether k images of a class pool them."""

    posterior: DiagonalNormal
    pooled: bool


@dataclass
class TrialSplit:
    """Classifier train/val/test images of one trial: (num_classes, K) indices into the test set each."""

    train: torch.Tensor
    val: torch.Tensor
    test: torch.Tensor


class LatentClassifier(nn.Module):
    """Supplement §3.1: linear (d -> 256), tanh, linear (256 -> classes); softmax lives in the loss.

    ``hidden_layers`` tanh layers (1: the supplement's; 0: a linear softmax probe; 2: a deeper MLP probe)."""

    def __init__(self, in_features: int, num_classes: int, hidden_units: int = 256, hidden_layers: int = 1) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(hidden_layers):
            layers += [nn.Linear(in_features if i == 0 else hidden_units, hidden_units), nn.Tanh()]
        layers.append(nn.Linear(hidden_units if hidden_layers else in_features, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features (B, d) -> class logits (B, num_classes)."""
        return self.net(x)


def eligible_classes(labels: torch.Tensor, max_k: int) -> torch.Tensor:
    """Classes with at least 3K images (K each for the classifier's train, val and test): (num_classes,)."""
    classes, counts = torch.unique(labels, return_counts=True)
    return classes[counts >= 3 * max_k]


def check_enough_images(labels: torch.Tensor, max_k: int) -> torch.Tensor:
    """The eligible classes, or DataError if fewer than 2 classes hold 3K test images."""
    classes = eligible_classes(labels, max_k)
    if len(classes) < 2:
        raise DataError(
            f"the classifier needs at least 2 classes with {3 * max_k} test images (3K for K = {max_k}); "
            "lower --K or evaluate on more test images per group"
        )
    return classes


def largest_k(labels: torch.Tensor, upper: int, min_classes: int = 10) -> int:
    """The largest K <= ``upper`` with at least ``min_classes`` classes of 3K images (at least 1)."""
    counts = torch.unique(labels, return_counts=True)[1]
    for k in range(upper, 0, -1):
        if int((counts >= 3 * k).sum()) >= min_classes:
            return k
    return 1


def split_trials(labels: torch.Tensor, max_k: int, trials: int, seed: int = 0) -> list[TrialSplit]:
    """Per trial, K train, K val and K test images of each eligible class, all disjoint.

    Trials use disjoint images where the classes hold enough (3K x trials), else fresh random draws."""
    classes = check_enough_images(labels, max_k)
    rng = np.random.default_rng(seed)
    members = [(labels == c).nonzero().flatten().numpy() for c in classes.tolist()]
    orders = [rng.permutation(m) for m in members]
    disjoint = all(len(m) >= 3 * max_k * trials for m in members)
    splits = []
    for t in range(trials):
        blocks = []
        for m, order in zip(members, orders, strict=True):
            if not disjoint:
                order = rng.permutation(m)
            start = 3 * max_k * t if disjoint else 0
            blocks.append(order[start : start + 3 * max_k])
        block = torch.from_numpy(np.stack(blocks)).long()  # (num_classes, 3K)
        splits.append(TrialSplit(block[:, :max_k], block[:, max_k : 2 * max_k], block[:, 2 * max_k :]))
    return splits


def pooling_members(block: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """For each image of ``block`` (num_classes, K), itself and k - 1 other images of its class drawn from the
    same block without replacement: (num_classes * K, k) indices, rows in ``block.flatten()`` order."""
    classes, size = block.shape
    if not 1 <= k <= size:
        raise ValueError(f"k must be in 1..{size}, got {k}")
    scores = torch.rand((classes, size, size), generator=generator)
    scores.diagonal(dim1=1, dim2=2).fill_(-1.0)  # never draw the image itself as an "other"
    others = scores.argsort(dim=2, descending=True)[:, :, : k - 1]  # (classes, K, k-1) positions in the row
    chosen = torch.gather(block.unsqueeze(1).expand(classes, size, size), 2, others)
    return torch.cat([block.unsqueeze(2), chosen], dim=2).reshape(classes * size, k)


def posterior_at(source: FeatureSource, block: torch.Tensor, k: int, generator: torch.Generator) -> DiagonalNormal:
    """Posterior of each image of ``block`` at pooling level k (style: its own): (num_classes * K, d)."""
    if not source.pooled:
        return source.posterior.index(block.flatten())
    return pool_each(source.posterior, pooling_members(block, k, generator))


def block_labels(block: torch.Tensor) -> torch.Tensor:
    """Class position (0..num_classes-1) of each row of ``block.flatten()``: (num_classes * K,)."""
    return torch.arange(block.shape[0]).repeat_interleave(block.shape[1])


def cross_entropy_bits(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean -log2 r(y | features)."""
    return F.cross_entropy(logits, labels).item() / math.log(2.0)


def train_classifier(
    train_q: DiagonalNormal,
    train_y: torch.Tensor,
    val_x: torch.Tensor,
    val_y: torch.Tensor,
    num_classes: int,
    config: ProtocolConfig,
    generator: torch.Generator,
) -> tuple[LatentClassifier, int]:
    """Adam on minibatches of training features (re-drawn from ``train_q`` every epoch when sampling), early
    stopping on the validation cross-entropy; returns the best classifier and the epochs run."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        model = LatentClassifier(train_q.mean.shape[1], num_classes, config.hidden_units, config.hidden_layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, betas=(0.9, 0.999), eps=1e-8)
    best, best_state, since_best, epoch = math.inf, None, 0, 0
    for epoch in range(1, config.max_epochs + 1):  # noqa: B007 (the last epoch run is returned)
        features = pick(train_q, config.feature_mode, generator)
        model.train()
        for idx in torch.randperm(features.shape[0], generator=generator).split(config.batch_size):
            loss = F.cross_entropy(model(features[idx]), train_y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            val_loss = F.cross_entropy(model(val_x), val_y).item()
        if val_loss < best - 1e-6:
            best, since_best = val_loss, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            since_best += 1
            if since_best >= config.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return model.eval(), epoch


def run_trial(
    source: FeatureSource, split: TrialSplit, config: ProtocolConfig, generator: torch.Generator
) -> dict[str, list[float] | int]:
    """Train on one feature kind of one trial and test at k = 1..K: accuracy and bits per k."""
    K, num_classes = config.max_k, split.train.shape[0]
    train_q = posterior_at(source, split.train, K, generator)
    val_ks = checkpoint_ks(K)
    val = [pick(posterior_at(source, split.val, k, generator), config.feature_mode, generator) for k in val_ks]
    val_y = block_labels(split.val).repeat(len(val_ks))
    model, epochs = train_classifier(
        train_q, block_labels(split.train), torch.cat(val), val_y, num_classes, config, generator
    )
    test_y = block_labels(split.test)
    accuracy, bits = [], []
    with torch.no_grad():
        for k in range(1, K + 1):
            logits = model(pick(posterior_at(source, split.test, k, generator), config.feature_mode, generator))
            accuracy.append((logits.argmax(1) == test_y).float().mean().item())
            bits.append(cross_entropy_bits(logits, test_y))
    return {"accuracy": accuracy, "bits": bits, "epochs": epochs}


def summarise(per_trial: list[list[float]]) -> dict[str, list]:
    """Mean and sample standard deviation over trials for each k, and the trials themselves."""
    values = np.asarray(per_trial, dtype=np.float64)  # (trials, K)
    std = values.std(axis=0, ddof=1) if values.shape[0] > 1 else np.zeros(values.shape[1])
    return {"mean": values.mean(axis=0).tolist(), "std": std.tolist(), "trials": values.tolist()}


def run_protocol(
    labels: torch.Tensor,
    sources: dict[str, FeatureSource],
    config: ProtocolConfig,
) -> dict:
    """The whole protocol for every feature kind on the same trial splits; JSON-able results."""
    if config.feature_mode not in ("sample", "mean"):
        raise ValueError(f"feature_mode must be 'sample' or 'mean', got {config.feature_mode!r}")
    labels = labels.cpu()
    splits = split_trials(labels, config.max_k, config.trials, config.seed)
    sources = {
        name: FeatureSource(
            DiagonalNormal(s.posterior.mean.detach().cpu(), s.posterior.logvar.detach().cpu()), s.pooled)
        for name, s in sources.items()
    }
    runs: dict[str, list[dict]] = {name: [] for name in sources}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: more threads only add synchronisation
    try:
        _run_trials(splits, sources, config, runs)
    finally:
        torch.set_num_threads(threads)
    classes = eligible_classes(labels, config.max_k)
    return {
        "protocol": asdict(config),
        "num_classes": len(classes),
        "chance_accuracy": 1.0 / len(classes),
        "chance_bits": math.log2(len(classes)),
        "k": list(range(1, config.max_k + 1)),
        "features": {
            name: {
                "pooled": sources[name].pooled,
                "accuracy": summarise([r["accuracy"] for r in trial_runs]),
                "bits": summarise([r["bits"] for r in trial_runs]),
                "epochs": [r["epochs"] for r in trial_runs],
            }
            for name, trial_runs in runs.items()
        },
    }


def _run_trials(
    splits: list[TrialSplit], sources: dict[str, FeatureSource], config: ProtocolConfig, runs: dict[str, list[dict]]
) -> None:
    with tqdm(total=len(splits) * len(sources), desc="classifier trials", dynamic_ncols=True) as bar:
        for t, split in enumerate(splits):
            for i, (name, source) in enumerate(sources.items()):
                generator = torch.Generator().manual_seed(config.seed * 1_000_003 + t * 101 + i)
                runs[name].append(run_trial(source, split, config, generator))
                bar.set_postfix_str(f"{name} trial {t + 1}: acc@k=1 {runs[name][-1]['accuracy'][0]:.3f}")
                bar.update(1)
