"""Trainers of the baselines whose models are not fed like the ML-VAE's.

SVI: a minibatch also selects the free parameters (style rows of its images, content rows of its groups),
and validation images are new, so their ELBO needs test-time inference. SVI-Encode: trained on
observations generated from the prior by a trained SVI model (eq. 17), not on the training images.
"""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import torch

from mlvae.checkpoint.folder import load_model
from mlvae.config import RunConfig, shape_text
from mlvae.data import GroupBatch, Splits
from mlvae.errors import MLVAEError
from mlvae.model.baselines.svi_encode import generate_observations
from mlvae.model.objective import ObjectiveTerms, group_elbo_from_posteriors
from mlvae.training.state import TrainingError
from mlvae.training.trainer import Trainer, _limit

log = logging.getLogger(__name__)

LARGE_SVI_VALIDATION = 2000  # validation images above which SVI's per-epoch test-time inference gets slow on CPU


class SVITrainer(Trainer):
    """Trains SVI: its tables get one row per training image and one per training group (noted in config.json)."""

    averages_weights = False

    def __init__(self, config: RunConfig, splits: Splits, out: str | Path, rank: int = 0, world_size: int = 1) -> None:
        train = _limit(splits.train, config.train.max_train_images, config.train.seed)  # the images Trainer keeps
        rows = (len(train), train.num_groups)
        model = config.model
        if model.svi_observations and (model.svi_observations, model.svi_groups) != rows:
            raise TrainingError(
                f"this SVI run has tables for {model.svi_observations} images / {model.svi_groups} groups but the "
                f"training split now holds {rows[0]} / {rows[1]}: resume with the same data and --max-train-images"
            )
        model.svi_observations, model.svi_groups = rows
        super().__init__(config, splits, out, rank, world_size)
        self.image_groups = self.train_data.groups.to(self.device)  # content row of each style row
        if self.is_main and len(self.val_data) > LARGE_SVI_VALIDATION:
            log.warning(
                "SVI validation fits %d steps of test-time inference to all %d validation images every epoch; "
                "pass --max-val-images 1000 (or fewer --inference-steps) to keep it short",
                model.inference_steps, len(self.val_data),
            )

    def batch_objective(self, x: torch.Tensor, batch: GroupBatch) -> ObjectiveTerms:
        """Group ELBO with the batch's rows of the style and content tables."""
        rows = batch.indices.to(self.device)
        group_ids = batch.group_ids.to(self.device)
        content_rows = torch.zeros(batch.num_groups, dtype=torch.long, device=self.device)
        content_rows.scatter_(0, group_ids, self.image_groups[rows])  # a batch group lies within one data group
        return self.model(x, group_ids, batch.num_groups, rows, content_rows)

    def validation_objective(self, x: torch.Tensor, batch: GroupBatch, generator: torch.Generator) -> ObjectiveTerms:
        """Group ELBO of new images after test-time inference of their style and group content."""
        group_ids = batch.group_ids.to(self.device)
        style, content = self.module.infer(x, group_ids, batch.num_groups, generator=generator)
        return group_elbo_from_posteriors(self.module, x, style, content, group_ids, generator)


class SVIEncodeTrainer(Trainer):
    """Fits an encoder to the SVI model in ``config.model.svi_checkpoint`` (whose networks it takes)."""

    averages_weights = False

    def __init__(self, config: RunConfig, splits: Splits, out: str | Path, rank: int = 0, world_size: int = 1) -> None:
        source = config.model.svi_checkpoint
        if not source:
            raise TrainingError(
                "--model svi-encode needs --svi-checkpoint: the folder of a trained SVI model "
                "(train one with  python -m mlvae.train --model svi)"
            )
        try:
            svi, svi_config = load_model(source)
        except MLVAEError as exc:
            raise TrainingError(f"--svi-checkpoint {source}: {exc}") from exc
        if svi_config.model.model_type != "svi":
            raise TrainingError(
                f"--svi-checkpoint {source} holds a {svi_config.model.model_type!r} model: give an SVI checkpoint"
            )
        if svi_config.model.image_shape != config.model.image_shape:
            raise TrainingError(
                f"the SVI model takes {shape_text(svi_config.model.image_shape)} images but this run's model takes "
                f"{shape_text(config.model.image_shape)}: use the dataset and --arch the SVI model was trained with"
            )
        if svi_config.model.likelihood == "normal":
            log.warning(
                "the SVI model has a Normal decoder of learned variance: eq. 17 tends to move the encoder to latents "
                "where that decoder predicts its largest variance (see mlvae/model/baselines/svi_encode.py); an SVI "
                "model trained with --likelihood bernoulli gives a usable encoder"
            )
        config.model = dataclasses.replace(
            svi_config.model, model_type="svi-encode", svi_observations=0, svi_groups=0, svi_checkpoint=str(source)
        )
        super().__init__(config, splits, out, rank, world_size)
        self.module.decoder.load_state_dict(svi.decoder.state_dict())

    def batch_objective(self, x: torch.Tensor, batch: GroupBatch) -> ObjectiveTerms:
        """Eq. 17 on as many fresh generated observations as the batch holds images (the images are unused)."""
        generated, _, _ = generate_observations(self.module, x.shape[0])
        return self.model(generated)

    def validation_objective(self, x: torch.Tensor, batch: GroupBatch, generator: torch.Generator) -> ObjectiveTerms:
        """Eq. 17 on the real validation images: how well encoder and SVI decoder reconstruct them."""
        return self.module(x, generator=generator)
