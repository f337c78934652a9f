"""The model class of each kind (``mlvae.model_kinds``: a kind names its class; its trainer:
``mlvae.training.trainer_types``)."""
from __future__ import annotations

from mlvae.config import ModelConfig
from mlvae.model.baselines import SVI, RegularisedVAE, SVIEncode
from mlvae.model.interface import GroupedVAE
from mlvae.model.ml_vae import MLVAE
from mlvae.model_kinds import MODEL_KINDS

MODEL_CLASSES: dict[str, type[GroupedVAE]] = {cls.__name__: cls for cls in (MLVAE, SVI, SVIEncode, RegularisedVAE)}


def model_class(model_type: str) -> type[GroupedVAE]:
    """The class that builds models of ``model_type``."""
    return MODEL_CLASSES[MODEL_KINDS[model_type].model]


def build_model(config: ModelConfig) -> GroupedVAE:
    """A fresh model of ``config.model_type`` (SVI's tables sized by ``config.svi_observations/svi_groups``)."""
    return model_class(config.model_type)(config)
