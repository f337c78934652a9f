"""``--init-from``: a run starts from a checkpoint's weights (with a fresh optimiser), the same network or a
smaller one of the same design: a narrower ``--width`` (``widen_into``) or smaller latents (``grow_latents_into``),
so that the larger network starts out computing what the smaller one did. Its split of people must be the run's."""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import torch

from mlvae.checkpoint.folder import (
    SPLIT_NAME,
    WEIGHTS_NAME,
    find_split,
    load_model,
    read_config,
    read_tensors,
    resolve_checkpoint,
)
from mlvae.config import ModelConfig
from mlvae.model.interface import GroupedVAE
from mlvae.model.widen import grow_latents_into, widen_into
from mlvae.training.state import TrainingError

log = logging.getLogger(__name__)


def same_design(source: ModelConfig, target: ModelConfig) -> bool:
    """Whether two models differ at most in width, latent sizes, σ and the log-variance bounds."""
    return dataclasses.replace(
        source, width=target.width, latent_dim=target.latent_dim, style_dim=target.style_dim, sigma=target.sigma,
        content_logvar_bound=target.content_logvar_bound, style_logvar_bound=target.style_logvar_bound,
    ) == target


def same_people(split: dict) -> dict:
    """A split record without where its data folders were: the same people split however the folders are spelt."""
    return {k: v for k, v in split.items() if k != "data_dir"}


def warm_start(module: GroupedVAE, target: ModelConfig, split: dict, checkpoint: str | Path,
               device: torch.device) -> Path:
    """Load the weights of ``checkpoint`` into ``module`` (built from ``target``, on ``device``; the checkpoint of
    the same shapes or a smaller network of the same design, trained on ``split``, the run's split record);
    returns the checkpoint's folder."""
    folder = resolve_checkpoint(checkpoint)
    tensors = read_tensors(folder / WEIGHTS_NAME)
    expected = module.state_dict()
    wrong = sorted(k for k in set(expected) | set(tensors)
                   if k not in tensors or k not in expected or tensors[k].shape != expected[k].shape)
    source = read_config(folder).model
    design = same_design(source, target)
    sizes, target_sizes = (source.latent_dim, source.style_size), (target.latent_dim, target.style_size)
    narrower = design and source.width < target.width and sizes == target_sizes
    smaller_latents = (design and source.width == target.width and sizes != target_sizes
                       and all(a <= b for a, b in zip(sizes, target_sizes, strict=True)))
    if wrong and not (narrower or smaller_latents):
        raise TrainingError(
            f"--init-from {checkpoint}: its weights do not fit this run's model ({', '.join(wrong[:3])} differ): "
            "give the same --model and --arch as the checkpoint, and its --width or a larger one, or its "
            "--latent-dim and --style-dim or larger ones (not a wider network and larger latents at once)"
        )
    found = find_split(folder)
    if found is None or same_people(found) != same_people(split):
        raise TrainingError(
            f"--init-from {checkpoint}: it was trained on another split of the groups (or has no {SPLIT_NAME}), "
            "so this run's test groups may be ones it learnt: give the same data folders, --split-seed and "
            "fractions as its run"
        )
    if wrong:  # a smaller network of the same design: its weights lead, computing what it computed
        small, _ = load_model(folder, device)
        try:
            (widen_into if narrower else grow_latents_into)(module, small)
        except ValueError as exc:
            raise TrainingError(f"--init-from {checkpoint}: {exc}") from exc
        if narrower:
            log.info("initialised from the weights of %s, widened from --width %g to %g (the new channels start "
                     "from zero weights into the old ones)", folder, source.width, target.width)
        else:
            log.info("initialised from the weights of %s, its latents grown from content %d, style %d to "
                     "content %d, style %d dimensions (the decoder starts out not reading the new ones)",
                     folder, *sizes, *target_sizes)
    else:
        module.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()})
        log.info("initialised from the weights of %s", folder)
    return folder
