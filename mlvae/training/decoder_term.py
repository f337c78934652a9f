"""What a term added to the decoder's loss implements: a labelled departure from the paper, off by default.

A term is one class: ``build`` makes it from the run's flags (or returns None when they leave it off), ``loss`` is
what it adds to one step's loss, and it may keep state that ``last/`` saves and ``--resume`` restores. The Trainer
lists the terms once (``mlvae.training.trainer.DECODER_TERMS``); a new term is one module and one entry there.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from mlvae.config import RunConfig
from mlvae.data import Splits
from mlvae.model.objective import ObjectiveTerms

ADAPTIVE_WEIGHT_MAX = 1e4  # VQGAN's clamp on lambda


def adaptive_weight(reconstruction_loss: torch.Tensor, generator_loss: torch.Tensor,
                    last_layer: torch.Tensor) -> torch.Tensor:
    """VQGAN eq. 7: ||grad (reconstruction)|| / (||grad (generator)|| + 1e-4) at ``last_layer``, clamped, detached."""
    rec_grad, = torch.autograd.grad(reconstruction_loss, last_layer, retain_graph=True)
    gen_grad, = torch.autograd.grad(generator_loss, last_layer, retain_graph=True)
    return (rec_grad.norm() / (gen_grad.norm() + 1e-4)).clamp(0.0, ADAPTIVE_WEIGHT_MAX).detach()


@dataclass(frozen=True)
class TermSetup:
    """What a term may need to build itself: the run's config, its device and split, how it is trained."""

    config: RunConfig
    device: torch.device
    splits: Splits
    world_size: int  # processes under torchrun
    averages_weights: bool  # False for models validated by test-time inference (SVI): see the Trainer


@dataclass
class TermStep:
    """One training step, as a term sees it. ``elbo_loss`` and ``last_layer`` are given to the terms that are not
    ``in_elbo_units`` only: the ELBO's loss as back-propagated (scalar) and the decoder's output layer's weight."""

    x: torch.Tensor  # (B, C, H, W) the batch's images in [0, 1], as the model saw them
    terms: ObjectiveTerms  # the group ELBO's parts; ``terms.reconstruction`` (B, C, H, W)
    step: int  # optimiser steps of this run so far
    elbo_loss: torch.Tensor | None = None
    last_layer: torch.Tensor | None = None

    def relative(self, term_loss: torch.Tensor) -> torch.Tensor:
        """The adaptive weight of ``term_loss`` (scalar): its gradient at the decoder's last layer scaled to the
        ELBO loss's, so a term's flag is its size relative to the likelihood's whatever the likelihood's scale."""
        if self.elbo_loss is None or self.last_layer is None:
            raise ValueError("an adaptive weight is for the terms that are not in_elbo_units")
        return adaptive_weight(self.elbo_loss, term_loss, self.last_layer)


class DecoderTerm:
    """A term of the decoder's loss beyond eq. 3. ``in_elbo_units``: True when the term is in the likelihood's
    units, added before the loss is rescaled for torchrun (and so in the reported training loss); False when it is
    weighted by ``TermStep.relative`` and added after. Validation reports the ELBO alone either way."""

    in_elbo_units = False

    @classmethod
    def build(cls, setup: TermSetup) -> DecoderTerm | None:
        """The term as the run's flags ask for it, None when they leave it off; TrainingError for flags that do
        not fit the run."""
        raise NotImplementedError

    def loss(self, step: TermStep) -> torch.Tensor | None:
        """What this term adds to the step's loss (scalar), or None to add nothing this step."""
        raise NotImplementedError

    def after_step(self, step: TermStep) -> None:
        """Called after the optimiser's step (e.g. to train a discriminator)."""

    def summary(self) -> dict[str, float]:
        """Figures for ``metrics.jsonl`` since the last call."""
        return {}

    def save(self, folder: Path) -> dict:
        """Write this term's state into ``last/`` (``folder``); returns entries for its ``trainer_state.json``."""
        return {}

    def restore(self, folder: Path, record: dict) -> None:
        """Inverse of ``save``, with the whole ``trainer_state.json`` record; a run saved without it keeps its
        fresh state."""

    def warm_start(self, folder: Path) -> None:
        """Called when the run starts from the weights in ``folder`` (``--init-from``): the terms here keep their
        fresh state, as the optimiser does."""
