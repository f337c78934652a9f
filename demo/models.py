"""The demo's model registry: the shipped checkpoints plus any named on the command line or in $MLVAE_MODELS."""
from __future__ import annotations

import html
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mlvae import MLVAE, MLVAEError, RunConfig, load_model
from mlvae.checkpoint.card import read_card
from mlvae.checkpoint.folder import CONFIG_NAME, SHIPPED_DIR, read_config, resolve_checkpoint
from mlvae.checkpoint.validation import check_data_matches_model

from .inputs.preparation import Preparation
from .kinds import Kind, kind_of

log = logging.getLogger(__name__)

# picker order: the first one present is the default (digits: it shows the effects best)
SHIPPED_NAMES = ("mnist", "faces")
SHIPPED_LABELS = {"faces": "faces (64x64 colour)", "mnist": "digits (MNIST)"}
ENV_VAR = "MLVAE_MODELS"  # extra checkpoints: folders or Hub ids, separated by commas or spaces


@dataclass
class DemoModel:
    """A loaded checkpoint and what the demo needs to know about it."""

    name: str  # the picker's value, unique
    label: str  # what the picker shows
    source: str  # what was asked for: shipped name, folder or Hub id
    folder: Path
    model: MLVAE
    config: RunConfig
    card: str | None  # the model card (README.md) without its front matter, if the checkpoint has one
    shortfall: str | None = None  # the card's one line on the goals this model misses, if it misses any
    kind: Kind = None  # type: ignore[assignment]  # digits or faces; None: from the dataset it was trained on

    def __post_init__(self) -> None:
        if self.kind is None:
            self.kind = kind_of(self.config)

    @property
    def preparation(self) -> Preparation:
        """How this model's inputs are prepared: as its training images were, digits framed the MNIST way."""
        return Preparation.of(self.config.data, self.kind.takes_drawings)

    @property
    def is_digits(self) -> bool:
        """A digits model: it takes drawings and white-on-black digits."""
        return self.kind.takes_drawings


@dataclass
class ModelRegistry:
    """The models the demo serves, by name, and the problems met while loading the others."""

    models: dict[str, DemoModel] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def default(self) -> str | None:
        """The name the picker starts on, or None when no model loaded."""
        return next(iter(self.models), None)

    def choices(self) -> list[tuple[str, str]]:
        """(label, name) pairs for the picker."""
        return [(m.label, m.name) for m in self.models.values()]

    def get(self, name: str | None) -> DemoModel:
        """The model called ``name``, or MLVAEError saying what is available."""
        if not self.models:
            raise MLVAEError(no_model_message())
        if name not in self.models:
            raise MLVAEError(f"no model {name!r} in this demo; choose one of: {', '.join(self.models)}")
        return self.models[name]


def not_loaded_note(registry: ModelRegistry) -> str:
    """Markdown for the About tab: the checkpoints that could not be loaded, one line each (empty when none)."""
    lines = [f"- {html.escape(problem)}" for problem in registry.problems]
    return "### Checkpoints not loaded\n" + "\n".join(lines) if lines else ""


def no_model_message() -> str:
    """What to do when no checkpoint could be loaded."""
    return (
        "No model could be loaded: the shipped checkpoints/mnist and checkpoints/faces are missing, and no checkpoint "
        f"given with --model or ${ENV_VAR} loaded. Train one (e.g. `python -m mlvae.train --epochs 3 "
        "--out runs/mnist`) and start the demo with `python app.py --model runs/mnist`, or list checkpoint folders "
        f"or Hub ids in ${ENV_VAR}."
    )


def sources_from_env(value: str | None = None) -> list[str]:
    """Checkpoint folders or Hub ids listed in $MLVAE_MODELS (commas or whitespace between them)."""
    value = os.environ.get(ENV_VAR, "") if value is None else value
    return [part for part in re.split(r"[,\s]+", value) if part]


def _name_for(source: str, folder: Path, taken: set[str]) -> str:
    local = Path(source).expanduser()
    if local.exists():
        base = folder.parent.name if folder.name in ("best", "last") else folder.name
    else:
        base = source  # a Hub id
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def load_one(source: str, name: str | None = None, label: str | None = None, taken: Sequence[str] = ()) -> DemoModel:
    """Load a checkpoint (shipped name, folder or Hub id) on the CPU, or raise MLVAEError."""
    folder = resolve_checkpoint(source)
    # the demo prepares its inputs by the data config: one that the model cannot take would fail every request
    check_data_matches_model(read_config(folder), folder.name)
    model, config = load_model(folder)
    if config.model.architecture == "conv":  # same numbers; oneDNN's CPU convolutions run ~1.6x faster
        model = model.to(memory_format=torch.channels_last)
    name = name or _name_for(source, folder, set(taken))
    card = read_card(folder)
    return DemoModel(name, label or name, source, folder, model, config, (card.body or None) if card else None,
                     card.shortfall if card else None)


def load_registry(
    extra: Sequence[str] = (), include_shipped: bool = True, shipped_dir: Path = SHIPPED_DIR
) -> ModelRegistry:
    """Load every shipped checkpoint present, then ``extra`` sources; failures are logged, never raised."""
    registry = ModelRegistry()
    if include_shipped:
        for name in SHIPPED_NAMES:
            folder = shipped_dir / name
            if not (folder / CONFIG_NAME).exists():
                log.info("no shipped checkpoint %s (looked in %s)", name, folder)
                continue
            _add(registry, str(folder), name, SHIPPED_LABELS[name])
    for source in extra:
        _add(registry, source, None, None)
    if not registry.models:
        log.warning("%s", no_model_message())
    return registry


def _add(registry: ModelRegistry, source: str, name: str | None, label: str | None) -> None:
    try:
        loaded = load_one(source, name, label, taken=list(registry.models))
    except Exception as exc:  # one bad checkpoint costs only itself: a line in the log and in the page
        known = isinstance(exc, (MLVAEError, OSError, ValueError))
        message = f"could not load the checkpoint {source!r}: {exc if known else type(exc).__name__}"
        log.warning("%s", message, exc_info=not known)
        registry.problems.append(message)
        return
    registry.models[loaded.name] = loaded
    log.info("loaded %s from %s (%s, %d x %d x %d)", loaded.name, loaded.folder, loaded.config.model.model_type,
             loaded.config.data.image_channels, loaded.config.data.image_size, loaded.config.data.image_size)
