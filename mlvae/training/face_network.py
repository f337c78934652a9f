"""The project's own face network for a feature-consistency term (deep-feature-consistent VAE, Hou et al. 2017).

A labelled departure from the paper, off by default. No pretrained face network can be downloaded here, and the
identity judge's network is for measuring only, so the project trains a small one: an identity classifier over the
**training people of one split only** (never a validation or test person), whose L2-normalised 128-d embedding is
the feature. ``python -m mlvae.face_features RUN_OR_CHECKPOINT --out FOLDER`` makes it; ``--feature-net FOLDER
--feature-weight W`` trains a model against it. Its folder records which people it learnt (``face_features.json``),
and training refuses a net that learnt anyone outside the run's training people.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn
from tqdm import tqdm

from mlvae.checkpoint.folder import atomic_write, read_tensors, write_json
from mlvae.data import GroupedImages
from mlvae.data.images import to_float
from mlvae.errors import MLVAEError

log = logging.getLogger(__name__)

FEATURES_WEIGHTS = "face_features.safetensors"
FEATURES_RECORD = "face_features.json"
COSINE_SCALE = 16.0


class FeatureNetError(MLVAEError):
    """A face-feature folder that is missing, broken, or trained on people it may not know."""


@dataclass(frozen=True)
class FaceFeatureConfig:
    """How a face network is built and was trained (saved in ``face_features.json``)."""

    people: int  # classes: the training people it learnt
    channels: int = 3
    width: int = 32
    embedding_dim: int = 128
    epochs: int = 15
    lr: float = 1e-3
    seed: int = 0
    margin: float = 0.0  # additive cosine margin on the true person's logit (CosFace); 0: a plain cosine classifier
    shift: int = 0  # random translation of each training image by up to this many pixels


class FaceFeatureNet(nn.Module):
    """4 convs (k4 s2, BN, ReLU; width x 1/2/4/8) -> 128-d embedding, and a linear classifier over the people."""

    def __init__(self, config: FaceFeatureConfig) -> None:
        super().__init__()
        chans = [config.channels] + [config.width * m for m in (1, 2, 4, 8)]
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:], strict=True):
            layers += [nn.Conv2d(cin, cout, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                                  nn.Linear(chans[-1] * 4, config.embedding_dim))
        self.classifier = nn.Linear(config.embedding_dim, config.people)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) in [0, 1] -> (B, embedding_dim) unit-length embeddings."""
        return F.normalize(self.body(2.0 * x - 1.0), dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) in [0, 1] -> (B, people) logits (a cosine classifier, scale ``COSINE_SCALE``)."""
        return COSINE_SCALE * self.embed(x) @ F.normalize(self.classifier.weight, dim=-1).T


def margin_logits(logits: torch.Tensor, labels: torch.Tensor, margin: float) -> torch.Tensor:
    """(B, people) cosine logits with ``margin`` taken off each true person's cosine (CosFace)."""
    if not margin:
        return logits
    return logits - COSINE_SCALE * margin * F.one_hot(labels, logits.shape[-1])


def random_shift(x: torch.Tensor, pixels: int) -> torch.Tensor:
    """Each (B, C, H, W) image moved by its own random offset of up to ``pixels`` each way, edges replicated."""
    b, _, h, w = x.shape
    padded = F.pad(x, (pixels,) * 4, mode="replicate")
    dy, dx = torch.randint(0, 2 * pixels + 1, (2, b)).tolist()
    return torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(b)])


def people_of(data: GroupedImages) -> list[str]:
    """The names of the groups that hold at least one image of ``data``, in label order."""
    return [data.group_names[g] for g in torch.unique(data.groups).tolist()]


def train_face_features(train: GroupedImages, config: FaceFeatureConfig, batch_size: int = 128) -> FaceFeatureNet:
    """An identity classifier over the people of ``train`` (``people_of``; images mirrored at random), in eval mode."""
    torch.manual_seed(config.seed)
    labels = torch.searchsorted(torch.unique(train.groups), train.groups)
    net = FaceFeatureNet(config)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.epochs)
    for epoch in range(config.epochs):
        order = torch.randperm(len(train))
        hits = total = 0
        bar = tqdm(order.split(batch_size), desc=f"face features {epoch + 1}/{config.epochs}", leave=False)
        for idx in bar:
            x = to_float(train.images[idx])
            x = torch.where(torch.rand(len(idx), 1, 1, 1) < 0.5, x.flip(-1), x)
            if config.shift:
                x = random_shift(x, config.shift)
            logits = net(x)
            loss = F.cross_entropy(margin_logits(logits, labels[idx], config.margin), labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            hits += int((logits.argmax(-1) == labels[idx]).sum())
            total += len(idx)
        schedule.step()
        log.info("face features epoch %d: training accuracy %.1f%%", epoch + 1, 100.0 * hits / max(total, 1))
    return net.eval()


def save_face_features(folder: Path, net: FaceFeatureNet, config: FaceFeatureConfig, people: list[str]) -> None:
    """Weights and record (config, the names of the people it learnt) into ``folder``, each file atomic."""
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
    atomic_write(folder / FEATURES_WEIGHTS, lambda tmp: save_file(tensors, str(tmp)))
    write_json(folder / FEATURES_RECORD, {"config": asdict(config), "people": sorted(people)})


def load_face_features(folder: str | Path, training_people: set[str]) -> FaceFeatureNet:
    """The frozen net of ``folder`` (eval mode); refused unless every person it learnt is in ``training_people``."""
    folder = Path(folder)
    try:
        record = json.loads((folder / FEATURES_RECORD).read_text())
        config = FaceFeatureConfig(**record["config"])
        people = set(record["people"])
        net = FaceFeatureNet(config)
        net.load_state_dict(read_tensors(folder / FEATURES_WEIGHTS))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, MLVAEError) as exc:
        raise FeatureNetError(f"--feature-net {folder}: not a readable face-feature folder ({str(exc)[:200]}); "
                              "make one with python -m mlvae.face_features") from exc
    outside = sorted(people - training_people)
    if outside:
        raise FeatureNetError(f"--feature-net {folder} learnt {len(outside)} people who are not training people of "
                              f"this run (e.g. {outside[0]}): a validation or test person must never be trained on. "
                              "Make a net for this run's split with python -m mlvae.face_features")
    for p in net.parameters():
        p.requires_grad_(False)
    return net.eval()


def feature_distance(net: FaceFeatureNet, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Squared distance of the embeddings of decoded and real images: (B, C, H, W) twice -> (B,)."""
    with torch.no_grad():
        target = net.embed(real)
    return (net.embed(fake) - target).square().sum(-1)
