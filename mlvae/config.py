"""Configuration dataclasses saved beside every checkpoint (``config.json``).

A checkpoint folder always knows how to rebuild its model: ``ModelConfig`` fixes the networks and the
posterior, ``DataConfig`` fixes how raw images are prepared, ``TrainConfig`` records how it was trained.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

MODEL_TYPES = ("mlvae", "vae", "svi", "svi-encode", "reg-vae")  # baselines: mlvae/baselines/
POSTERIORS = ("product", "mixture")
ARCHITECTURES = ("mlp", "conv")
LIKELIHOODS = ("normal", "normal-unit", "normal-fixed", "bernoulli")


@dataclass
class ModelConfig:
    """What the model is: networks, latent size, posterior and likelihood."""

    model_type: str = "mlvae"  # "mlvae" (grouped), "vae" (plain VAE baseline, same networks) or a MODEL_TYPES baseline
    posterior: str = "product"  # group content posterior: "product" (paper eq. 7) or "mixture" (supp. §1)
    architecture: str = "mlp"  # "mlp" (MNIST, supp. §2.1) or "conv" (64x64 colour, supp. §2.1)
    latent_dim: int = 10  # d: size of the content (and of the style, unless style_dim says otherwise)
    style_dim: int | None = None  # size of the style; None: latent_dim, as in the paper (a smaller style starves it)
    image_channels: int = 1
    image_size: int = 28
    hidden_dim: int = 500  # MLP hidden units
    width: float = 1.0  # conv channel multiplier (1.0 = the paper's 64/128/256/512)
    likelihood: str = "normal"  # learned 5*tanh-bounded variance; "normal-unit": fixed unit variance;
    # "normal-fixed": fixed standard deviation ``sigma``; "bernoulli"
    sigma: float = 0.1  # normal-fixed: the decoder's standard deviation, per pixel in [0, 1] units
    reg_lambda: float = 1.0  # reg-vae: weight of the symmetrised-KL content penalty (supplement eq. 18)
    svi_observations: int = 0  # svi: rows of the per-observation style table = training images it was fitted to
    svi_groups: int = 0  # svi: rows of the per-group content table = training groups
    inference_steps: int = 200  # svi: Adam steps of test-time inference (encode runs an optimisation; supp. §2: 200 epochs)
    inference_lr: float = 0.1  # svi: Adam learning rate of test-time inference (200 steps: within 2 nats of 500)
    svi_checkpoint: str | None = None  # svi-encode: the SVI checkpoint whose decoder it was fitted to (provenance)

    def __post_init__(self) -> None:
        _check_choice("model_type", self.model_type, MODEL_TYPES)
        _check_choice("posterior", self.posterior, POSTERIORS)
        _check_choice("architecture", self.architecture, ARCHITECTURES)
        _check_choice("likelihood", self.likelihood, LIKELIHOODS)
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {self.latent_dim}")
        if self.style_dim is not None and self.style_dim < 1:
            raise ValueError(f"style_dim must be >= 1 (or None for latent_dim), got {self.style_dim}")
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"sigma must be > 0, got {self.sigma}")
        if self.posterior == "mixture" and self.model_type in ("svi", "svi-encode", "reg-vae"):
            raise ValueError(f"the mixture posterior is an ML-VAE option; {self.model_type} has no pooled posterior")
        if self.reg_lambda < 0 or self.inference_steps < 0 or self.inference_lr <= 0:
            raise ValueError("reg_lambda and inference_steps must be >= 0 and inference_lr > 0")
        if self.svi_observations < 0 or self.svi_groups < 0:
            raise ValueError("svi_observations and svi_groups count table rows: they must be >= 0")
        if self.architecture == "conv" and self.image_size != 64:
            raise ValueError("the conv architecture takes 64x64 images (image_size=64)")

    @property
    def style_size(self) -> int:
        """Size of the style latent."""
        return self.style_dim or self.latent_dim


@dataclass
class DataConfig:
    """How raw images become model inputs, and which groups were used for what."""

    dataset: str = "mnist"  # "mnist" or "folder"
    data_dir: str | list[str] | None = None  # folder: one folder of group subfolders, or a list of them
    image_size: int = 28
    image_channels: int = 1
    crop_fraction: float = 1.0  # side of the centre square crop, as a fraction of the shorter side
    align_faces: bool = False  # find the largest face and warp it to the canonical framing (mlvae.faces)
    val_fraction: float = 0.1  # folder datasets: fraction of groups held out for validation
    test_fraction: float = 0.1  # folder datasets: fraction of groups held out for test
    split_seed: int = 0
    val_size: int = 10000  # mnist: the paper's 50k/10k train/validation split

    def __post_init__(self) -> None:
        if not 0 < self.crop_fraction <= 1:
            raise ValueError(f"--crop-fraction must be in (0, 1], got {self.crop_fraction}")


@dataclass
class TrainConfig:
    """How a run trains; every field is a flag of ``python -m mlvae.train``."""

    epochs: int = 20
    groups_per_batch: int = 64
    min_group_size: int = 1
    max_group_size: int = 10
    lr: float = 1e-3
    seed: int = 0
    device: str = "auto"
    max_train_images: int | None = None
    max_val_images: int | None = None
    max_steps: int | None = None
    num_threads: int | None = None
    max_images_per_group: int | None = None  # images of one group drawn per epoch (caps very large groups)
    flip: bool = False  # random horizontal flips of training images
    # A labelled departure from the paper, off by default: the style KL weighted by ``style_kl_weight`` at step
    # 0, falling linearly to 1 (the ELBO) at ``style_kl_anneal_steps`` (0: the weight stays constant).
    style_kl_weight: float = 1.0
    style_kl_anneal_steps: int = 0

    def __post_init__(self) -> None:
        _at_least("--epochs", self.epochs, 1)
        _at_least("--groups-per-batch", self.groups_per_batch, 1)
        _at_least("--min-group-size", self.min_group_size, 1)
        if self.max_group_size < self.min_group_size:
            raise ValueError(f"--max-group-size ({self.max_group_size}) must be at least --min-group-size "
                             f"({self.min_group_size})")
        for flag, value in (("--max-steps", self.max_steps), ("--threads", self.num_threads),
                            ("--max-train-images", self.max_train_images), ("--max-val-images", self.max_val_images)):
            if value is not None:
                _at_least(flag, value, 1)
        if self.max_images_per_group is not None and self.max_images_per_group < self.min_group_size:
            raise ValueError(f"--max-images-per-group ({self.max_images_per_group}) must be at least "
                             f"--min-group-size ({self.min_group_size})")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"--lr must be a positive number, got {self.lr}")
        if not (math.isfinite(self.style_kl_weight) and self.style_kl_weight >= 0):
            raise ValueError(f"--style-kl-weight must be a number >= 0, got {self.style_kl_weight}")
        _at_least("--style-kl-anneal-steps", self.style_kl_anneal_steps, 0)


@dataclass
class RunConfig:
    """Everything ``config.json`` holds."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """Pretty JSON text."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "RunConfig":
        """Rebuild from ``to_dict`` output; unknown keys are an error naming the key."""
        return cls(
            model=_build(ModelConfig, raw.get("model", {})),
            data=_build(DataConfig, raw.get("data", {})),
            train=_build(TrainConfig, raw.get("train", {})),
        )


def _build(kind: type, raw: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ValueError(f"unknown {kind.__name__} field(s) in config: {', '.join(unknown)}")
    return kind(**raw)


def _at_least(flag: str, value: int, low: int) -> None:
    if value < low:
        raise ValueError(f"{flag} must be at least {low}, got {value}")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
