"""Configuration dataclasses saved beside every checkpoint (``config.json``).

A checkpoint folder always knows how to rebuild its model: ``ModelConfig`` fixes the networks and the
posterior, ``DataConfig`` fixes how raw images are prepared, ``TrainConfig`` records how it was trained.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from mlvae.flags import flag
from mlvae.model_kinds import MODEL_HELP, MODEL_TYPES

POSTERIORS = ("product", "mixture")
UPSAMPLINGS = ("transposed", "resize")
ARCHITECTURES = ("mlp", "conv")
# --likelihood's choices: one class each in mlvae.model.likelihood (its register_likelihood adds a name here)
LIKELIHOODS: list[str] = ["normal", "normal-unit", "normal-fixed", "bernoulli"]
DATASETS = ("mnist", "folder")
IMAGE_SHAPES = {"mlp": (1, 28), "conv": (3, 64)}  # (channels, side) of the images each architecture takes
# Upper bounds on the sizes a config may ask for: far above any model here, far below what would exhaust memory
# when the networks are built (a config is read before its weights are).
MAX_IMAGE_SIZE = 512
MAX_LATENT_DIM = 4096
MAX_HIDDEN_DIM = 16384
MAX_WIDTH = 8.0
MAX_LOGVAR_BOUND = 20.0
MAX_RES_BLOCKS = 16


@dataclass(frozen=True)
class DatasetPreset:
    """The defaults a dataset brings (supplement §2.1): the MNIST decoder outputs 784 means (unit variance),
    the 64x64 decoder a mean and a 5*tanh log-variance image."""

    architecture: str
    latent_dim: int
    likelihood: str
    crop_fraction: float


PRESETS = {"mnist": DatasetPreset("mlp", 10, "normal-unit", 1.0), "folder": DatasetPreset("conv", 50, "normal", 0.8)}


@dataclass
class ModelConfig:
    """What the model is: networks, latent size, posterior and likelihood."""

    model_type: str = field(default="mlvae", metadata=flag(
        MODEL_HELP, group="model", name="--model", choices=MODEL_TYPES))  # the kinds: mlvae.model_kinds
    posterior: str = field(default="product", metadata=flag(
        "group content posterior: product of Normals (paper eq. 7) or mixture (supplement §1)", group="model",
        choices=POSTERIORS))
    architecture: str = field(default="mlp", metadata=flag(
        "networks of supplement §2.1", group="model", name="--arch", choices=ARCHITECTURES, preset=True))
    latent_dim: int = field(default=10, metadata=flag(
        "d, size of the content, and of the style unless --style-dim is given", group="model", preset=True))
    style_dim: int | None = field(default=None, metadata=flag(
        "size of the style latent, if not d: a style smaller than the content has less room to copy a photo's "
        "identity (a departure from the paper, which uses d for both)", group="model", default_text="d"))
    # no image shape: it is the architecture's (IMAGE_SHAPES; image_shape below)
    hidden_dim: int = 500  # MLP hidden units (supplement §2.1)
    width: float = field(default=1.0, metadata=flag(
        "conv channel multiplier (1.0: the paper's 64/128/256/512); 0.25-0.5 for CPUs", group="model"))
    likelihood: str = field(default="normal", metadata=flag(
        "decoder likelihood: Normal with learned 5*tanh-bounded log-variance (the paper's faces decoder), Normal "
        "with unit variance (a mean-only decoder, as the paper's 784-output MNIST decoder reads), Normal with the "
        "fixed standard deviation --sigma, or Bernoulli", group="model", choices=LIKELIHOODS, preset=True))
    sigma: float = field(default=0.1, metadata=flag(
        "normal-fixed: the decoder's standard deviation per pixel, in [0, 1] units", group="model"))
    reg_lambda: float = field(default=1.0, metadata=flag(
        "reg-vae: weight lambda of the symmetrised-KL content penalty of supplement eq. 18", group="model"))
    content_logvar_bound: float = field(default=5.0, metadata=flag(
        "the encoder's content log-variance lies in (-B, B): the paper's 5 (5*tanh) keeps every posterior standard "
        "deviation above 0.082, which caps what one dimension can say; a wider bound is a departure from the paper",
        group="model"))
    style_logvar_bound: float = field(default=5.0, metadata=flag(
        "the same bound for the encoder's style log-variance (the paper's 5)", group="model"))
    upsampling: str = field(default="transposed", metadata=flag(
        "conv decoder: how each stage doubles the resolution: the paper's stride-2 transposed conv, or resize "
        "(nearest) then a 3x3 conv, which cannot draw the transposed conv's checkerboard grain (a departure from "
        "the paper)", group="model", choices=UPSAMPLINGS))
    decoder_res_blocks: int = field(default=0, metadata=flag(
        "conv decoder: residual blocks (two 3x3 convs and a skip) after the upsampling to 32x32 and again after "
        "the one to 64x64, capacity where detail is drawn (a departure from the paper, which has none)",
        group="model", metavar="N"))
    svi_observations: int = 0  # svi: rows of the per-observation style table = training images it was fitted to
    svi_groups: int = 0  # svi: rows of the per-group content table = training groups
    inference_steps: int = field(default=200, metadata=flag(
        "svi: Adam steps of test-time inference on new images, in validation and encode (supplement §2: 200 "
        "epochs)", group="model"))
    inference_lr: float = field(default=0.1, metadata=flag(
        "svi: Adam learning rate of test-time inference", group="model"))
    svi_checkpoint: str | None = field(default=None, metadata=flag(
        "svi-encode: the trained SVI checkpoint (run folder or best/) whose decoder the encoder is fitted to",
        group="model"))

    def __post_init__(self) -> None:
        _check_choice("model_type", self.model_type, MODEL_TYPES)
        _check_choice("posterior", self.posterior, POSTERIORS)
        _check_choice("architecture", self.architecture, ARCHITECTURES)
        _check_choice("likelihood", self.likelihood, LIKELIHOODS)
        _check_choice("upsampling", self.upsampling, UPSAMPLINGS)
        _in_range("decoder_res_blocks", self.decoder_res_blocks, 0, MAX_RES_BLOCKS)
        _in_range("latent_dim", self.latent_dim, 1, MAX_LATENT_DIM)
        if self.style_dim is not None:
            _in_range("style_dim (or null for latent_dim)", self.style_dim, 1, MAX_LATENT_DIM)
        _in_range("hidden_dim", self.hidden_dim, 1, MAX_HIDDEN_DIM)
        if not (math.isfinite(self.width) and 0 < self.width <= MAX_WIDTH):
            raise ValueError(f"width must be in (0, {MAX_WIDTH:g}], got {self.width}")
        for name in ("content_logvar_bound", "style_logvar_bound"):
            bound = getattr(self, name)
            if not (math.isfinite(bound) and 0 < bound <= MAX_LOGVAR_BOUND):
                flag_name = "--" + name.replace("_", "-")
                raise ValueError(f"{flag_name} must be in (0, {MAX_LOGVAR_BOUND:g}], got {bound}")
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"sigma must be > 0, got {self.sigma}")
        if self.posterior == "mixture" and self.model_type in ("svi", "svi-encode", "reg-vae"):
            raise ValueError(f"the mixture posterior is an ML-VAE option; {self.model_type} has no pooled posterior")
        if self.reg_lambda < 0 or self.inference_steps < 0 or self.inference_lr <= 0:
            raise ValueError("reg_lambda and inference_steps must be >= 0 and inference_lr > 0")
        if self.svi_observations < 0 or self.svi_groups < 0:
            raise ValueError("svi_observations and svi_groups count table rows: they must be >= 0")

    @property
    def style_size(self) -> int:
        """Size of the style latent."""
        return self.style_dim or self.latent_dim

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of the images the architecture takes."""
        channels, size = IMAGE_SHAPES[self.architecture]
        return channels, size, size

    @property
    def image_channels(self) -> int:
        """Channels of the input images (the architecture's)."""
        return self.image_shape[0]

    @property
    def image_size(self) -> int:
        """Side of the square input images (the architecture's)."""
        return self.image_shape[1]

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelConfig:
        """The model section of a ``config.json``; an older one also states the image shape (``image_channels``,
        ``image_size``), which must be the architecture's (ValueError otherwise) and is not kept."""
        config = cls(**{k: v for k, v in raw.items() if k not in STATED_SHAPE})
        channels, size, _ = config.image_shape
        if raw.get("image_channels", channels) != channels or raw.get("image_size", size) != size:
            raise ValueError(f"the {config.architecture} architecture takes {size}x{size} images of {channels} "
                             f"channel(s) (image_channels={channels}, image_size={size})")
        return config


def model_departures(model: ModelConfig) -> list[str]:
    """The ways ``model``'s networks depart from the paper's (supplement §2.1), in words, e.g. for a model card
    or the demo's About ([] when none)."""
    paper_bound = 5.0  # 5 * tanh (mlvae.model.networks.PAPER_LOGVAR_BOUND)
    out = []
    if model.content_logvar_bound != paper_bound:
        out.append(f"the encoder's content log-variances may reach ±{model.content_logvar_bound:g} (the paper's "
                   "±5 caps how much one content dimension can say)")
    if model.style_logvar_bound != paper_bound:
        out.append(f"the encoder's style log-variances may reach ±{model.style_logvar_bound:g} (the paper's ±5)")
    if model.architecture == "conv" and model.upsampling == "resize":
        out.append("the decoder doubles its resolution by resizing, then convolving, instead of transposed "
                   "convolutions (no checkerboard grain)")
    if model.architecture == "conv" and model.decoder_res_blocks:
        out.append(f"the decoder has {model.decoder_res_blocks} residual block(s) at 32x32 and at 64x64 (the "
                   "paper's has none)")
    return out


# Older config.json files state the image shape in the model section: ModelConfig.from_dict checks it, it is not
# stored.
STATED_SHAPE = {"image_channels": int, "image_size": int}


def shape_text(shape: tuple[int, int, int]) -> str:
    """``(3, 64, 64)`` -> ``3x64x64``."""
    return "x".join(map(str, shape))


@dataclass
class DataConfig:
    """How raw images become model inputs, and which groups were used for what."""

    dataset: str = field(default="mnist", metadata=flag(
        "mnist: digits grouped by label (paper split). folder: one subfolder of images per group.", group="data",
        choices=DATASETS))
    data_dir: str | list[str] | None = field(default=None, metadata=flag(
        "folder dataset: the folder of group subfolders; repeat it to train on several folders together (each "
        "split by the same fractions); mnist: the torchvision root", group="data", repeat=True,
        default_text="$MLVAE_DATA_DIR/mnist, else download"))
    image_size: int = 28  # the model's (IMAGE_SHAPES of its architecture)
    image_channels: int = 1
    crop_fraction: float = field(default=1.0, metadata=flag(
        "centre square crop as a fraction of the shorter side before resizing", group="data", preset=True))
    align_faces: bool = field(default=False, metadata=flag(
        "folder: find the largest face in each photo and warp it to the canonical framing (dlib landmarks, "
        "mlvae.data.faces); photos without a face are skipped. Crops are cached on disk ($MLVAE_CACHE_DIR or "
        "~/.cache/mlvae), keyed by file content", group="data"))
    val_fraction: float = field(default=0.1, metadata=flag(
        "folder: fraction of groups for validation", group="data"))
    test_fraction: float = field(default=0.1, metadata=flag("folder: fraction of groups for test", group="data"))
    split_seed: int = field(default=0, metadata=flag("seed of the train/val/test split", group="data"))
    val_size: int = 10000  # mnist: the paper's 50k/10k train/validation split

    def __post_init__(self) -> None:
        if not 0 < self.crop_fraction <= 1:
            raise ValueError(f"--crop-fraction must be in (0, 1], got {self.crop_fraction}")
        _in_range("image_channels", self.image_channels, 1, 3)
        _in_range("image_size", self.image_size, 1, MAX_IMAGE_SIZE)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of the prepared images."""
        return self.image_channels, self.image_size, self.image_size

    @property
    def data_dirs(self) -> list[str]:
        """The data folders, as a list (``data_dir_list``)."""
        return data_dir_list(self.data_dir)

    def with_data_dirs(self, dirs: str | os.PathLike | typing.Sequence | None) -> DataConfig:
        """A copy that reads ``dirs`` instead (e.g. an evaluation's ``--data-dir``)."""
        return dataclasses.replace(self, data_dir=stored_data_dir(dirs))


def data_dir_list(value: str | os.PathLike | typing.Sequence | None) -> list[str]:
    """A ``data_dir`` as a list of folders, however it is stored: none (None), one (a string) or several (a list)."""
    if not value:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [str(value)]
    return [str(v) for v in value]


def stored_data_dir(dirs: str | os.PathLike | typing.Sequence | None) -> str | list[str] | None:
    """Folders as ``DataConfig.data_dir`` stores them in ``config.json``: None, one as a string, several as a list."""
    names = data_dir_list(dirs)
    return None if not names else names[0] if len(names) == 1 else names


@dataclass
class TrainConfig:
    """How a run trains; every field with a flag is a flag of ``python -m mlvae.train``."""

    epochs: int = field(default=20, metadata=flag("epochs", group="training"))
    groups_per_batch: int = field(default=64, metadata=flag(
        "groups in a minibatch; per rank under torchrun", group="training"))
    min_group_size: int = field(default=1, metadata=flag(
        "smallest group drawn; groups with fewer images are not trained on", group="training"))
    max_group_size: int = field(default=10, metadata=flag(
        "larger groups are subsampled to this", group="training"))
    lr: float = field(default=1e-3, metadata=flag(
        "Adam learning rate", group="training", default_text="1e-3, as the paper"))
    seed: int = field(default=0, metadata=flag("makes a run reproducible", group="training"))
    device: str = field(default="auto", metadata=flag(
        "auto (CUDA, then Apple MPS, then CPU), cpu, cuda, cuda:1, mps", group="training", default_text=""))
    max_train_images: int | None = field(default=None, metadata=flag(
        "use a random subset of the training split (quick runs)", group="training"))
    max_val_images: int | None = field(default=None, metadata=flag(
        "use a random subset of the validation split", group="training"))
    max_steps: int | None = field(default=None, metadata=flag(
        "stop after this many optimiser steps", group="training"))
    num_threads: int | None = field(default=None, metadata=flag(
        "CPU threads for torch", group="training", name="--threads", default_text="all cores"))
    max_images_per_group: int | None = field(default=None, metadata=flag(
        "images of one group drawn per epoch, so that a group with hundreds of photos does not dominate",
        group="training", default_text="all"))
    flip: bool = field(default=False, metadata=flag(
        "mirror a random half of the training images left-right", group="training"))
    compile: bool = field(default=False, metadata=flag(
        "torch.compile the training forward (minutes of compiling first; on a machine without a working "
        "compiler it says so and trains without). docs/benchmarks.md gives what it gains",
        group="training"))
    # A labelled departure from the paper, off by default: the style KL weighted by ``style_kl_weight`` at step
    # 0, falling linearly to 1 (the ELBO) at ``style_kl_anneal_steps`` (0: the weight stays constant).
    style_kl_weight: float = field(default=1.0, metadata=flag(
        "weight of the style KL in the training loss at step 0, falling linearly to 1 at --style-kl-anneal-steps: "
        "a departure from the paper that delays the style so that the shared content is learnt first; validation "
        "always reports the true ELBO", group="training", default_text="1, the paper"))
    style_kl_anneal_steps: int = field(default=0, metadata=flag(
        "steps over which --style-kl-weight falls to 1", group="training", default_text="0, the weight stays constant"))
    ema_decay: float = field(default=0.0, metadata=flag(
        "keep an exponential moving average of the weights (Polyak averaging), avg <- decay * avg + (1 - decay) * "
        "weights after each step (e.g. 0.999: about the last 1,000 steps); validation and best/ use the average, "
        "last/ holds both. It smooths the step-to-step bounce of the weights; the objective is the paper's. 0: off",
        group="training",
        default_text="0, off"))
    # A labelled departure from the paper, off by default (mlvae/training/adversarial.py): a patch discriminator
    # judges the decoder's reconstructions, and the decoder is also trained to fool it (VAE-GAN, VQGAN).
    adversarial_weight: float = field(default=0.0, metadata=flag(
        "add an adversarial patch term to the decoder's loss (VAE-GAN / VQGAN): a departure from the paper that "
        "trades the Normal likelihood's blurry mean for sharp detail. The value is the term's gradient relative to "
        "the likelihood's at the decoder's last layer (VQGAN's adaptive weight; 0.1-1 are typical). The inference "
        "(posteriors, the product of Normals, the KL terms) stays the paper's; validation reports the ELBO. Meant "
        "for a run started --init-from a model trained without it. 0: off", group="training", default_text="0, off"))
    adversarial_start: int = field(default=0, metadata=flag(
        "optimiser steps of this run before the decoder feels the adversarial term (the discriminator trains "
        "from the first step, so it has learnt something by then)", group="training", metavar="STEPS"))
    # A labelled departure from the paper, off by default (mlvae/training/frequency.py): the focal frequency term.
    frequency_weight: float = field(default=0.0, metadata=flag(
        "add the focal frequency term (Jiang et al. 2021) to the decoder's loss: a departure from the paper that "
        "weights each spatial frequency's squared error by how badly it is reconstructed, against the blur a "
        "pixel-wise likelihood settles for. In the normal-fixed likelihood's units: 1 adds at most as much again "
        "as its squared error. Validation still reports the ELBO. 0: off", group="training", default_text="0, off"))
    # A labelled departure from the paper, off by default (mlvae/training/feature_consistency.py): feature consistency.
    feature_weight: float = field(default=0.0, metadata=flag(
        "add a feature-consistency term (Hou et al. 2017) to the decoder's loss: the squared distance between the "
        "--feature-net embeddings of each photo and its reconstruction, so that what tells people apart counts, not "
        "only pixels. A departure from the paper; the value is the term's gradient relative to the likelihood's at "
        "the decoder's last layer (as --adversarial-weight). Validation still reports the ELBO. 0: off",
        group="training", default_text="0, off"))
    feature_net: str | None = field(default=None, metadata=flag(
        "the face network of --feature-weight: a folder made by python -m mlvae.face_features for this run's split "
        "(refused if it learnt anyone who is not a training person of this run)", group="training", metavar="FOLDER"))
    init_from: str | None = field(default=None, metadata=flag(
        "start from the weights of this checkpoint (a run's best/ or last/, or a shipped name) instead of a random "
        "init, with a fresh optimiser: to go on training a model under another σ, schedule, --width, --latent-dim or "
        "--style-dim. The design must match (a larger --width, or a larger --latent-dim or --style-dim, is allowed: "
        "the smaller network's weights take their "
        "places and the larger one starts computing what it computed), and so must the split of people, so that "
        "the test people stay unseen",
        group="training",
        metavar="CHECKPOINT", default_text="a random init"))

    def __post_init__(self) -> None:
        _at_least("--epochs", self.epochs, 1)
        _at_least("--groups-per-batch", self.groups_per_batch, 1)
        _at_least("--min-group-size", self.min_group_size, 1)
        if self.max_group_size < self.min_group_size:
            raise ValueError(f"--max-group-size ({self.max_group_size}) must be at least --min-group-size "
                             f"({self.min_group_size})")
        for name, value in (("--max-steps", self.max_steps), ("--threads", self.num_threads),
                            ("--max-train-images", self.max_train_images), ("--max-val-images", self.max_val_images)):
            if value is not None:
                _at_least(name, value, 1)
        if self.max_images_per_group is not None and self.max_images_per_group < self.min_group_size:
            raise ValueError(f"--max-images-per-group ({self.max_images_per_group}) must be at least "
                             f"--min-group-size ({self.min_group_size})")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"--lr must be a positive number, got {self.lr}")
        if not (math.isfinite(self.style_kl_weight) and self.style_kl_weight >= 0):
            raise ValueError(f"--style-kl-weight must be a number >= 0, got {self.style_kl_weight}")
        _at_least("--style-kl-anneal-steps", self.style_kl_anneal_steps, 0)
        if not (math.isfinite(self.ema_decay) and 0 <= self.ema_decay < 1):
            raise ValueError(f"--ema-decay must be in [0, 1), got {self.ema_decay}")
        # the decoder terms' weights (mlvae.training.decoder_term): 0 leaves a term off
        for name, weight in (("--adversarial-weight", self.adversarial_weight),
                             ("--frequency-weight", self.frequency_weight), ("--feature-weight", self.feature_weight)):
            if not (math.isfinite(weight) and weight >= 0):
                raise ValueError(f"{name} must be a number >= 0, got {weight}")
        _at_least("--adversarial-start", self.adversarial_start, 0)
        if bool(self.feature_weight) != bool(self.feature_net):
            raise ValueError("--feature-weight and --feature-net go together: give both or neither")


@dataclass
class RunConfig:
    """Everything ``config.json`` holds."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: Any) -> RunConfig:
        """Rebuild from ``to_dict`` output (parsed JSON of any shape); a wrong shape, an unknown key or a value of
        the wrong type is a ValueError naming it."""
        if not isinstance(raw, dict):
            raise ValueError(f"the config must be a JSON object with model, data and train; got {_json_type(raw)}")
        unknown = sorted(set(raw) - {"model", "data", "train"})
        if unknown:
            raise ValueError(f"unknown section(s) in config: {', '.join(map(str, unknown))}")
        return cls(
            model=_build(ModelConfig, raw.get("model", {})),
            data=_build(DataConfig, raw.get("data", {})),
            train=_build(TrainConfig, raw.get("train", {})),
        )


def _build(kind: type, raw: Any) -> Any:
    if not isinstance(raw, dict):
        raise ValueError(f"{kind.__name__} in the config must be a JSON object, got {_json_type(raw)}")
    hints = typing.get_type_hints(kind) | (STATED_SHAPE if kind is ModelConfig else {})
    unknown = sorted(set(raw) - set(hints))
    if unknown:
        raise ValueError(f"unknown {kind.__name__} field(s) in config: {', '.join(map(str, unknown))}")
    for name, value in raw.items():
        if not _has_type(value, hints[name]):
            raise ValueError(f"{kind.__name__}.{name} must be {_type_name(hints[name])}, got {json.dumps(value)[:40]}")
    return ModelConfig.from_dict(raw) if kind is ModelConfig else kind(**raw)


def _has_type(value: Any, annotation: Any) -> bool:
    """Whether a parsed JSON value fits a field's annotation (int, float, str, bool, list[str], X | None)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_has_type(value, option) for option in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        return isinstance(value, list) and all(_has_type(v, item) for v in value)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def _type_name(annotation: Any) -> str:
    names = {int: "a whole number", float: "a number", str: "a string", bool: "true or false", type(None): "null"}
    if typing.get_origin(annotation) is list:
        return "a list of " + _type_name(typing.get_args(annotation)[0]).removeprefix("a ") + "s"
    options = typing.get_args(annotation) or (annotation,)
    return " or ".join(names.get(o) or _type_name(o) for o in options)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _in_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must be from {low} to {high}, got {value}")


def _at_least(flag: str, value: int, low: int) -> None:
    if value < low:
        raise ValueError(f"{flag} must be at least {low}, got {value}")


def _check_choice(name: str, value: str, choices: typing.Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
