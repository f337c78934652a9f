"""Which model class each ``ModelConfig.model_type`` builds (its trainer: ``mlvae.training.trainer_types``)."""
from __future__ import annotations

from mlvae.config import ModelConfig
from mlvae.model.baselines import SVI, RegularisedVAE, SVIEncode
from mlvae.model.interface import GroupedVAE
from mlvae.model.ml_vae import MLVAE

MODEL_CLASSES: dict[str, type[GroupedVAE]] = {
    "mlvae": MLVAE, "vae": MLVAE, "svi": SVI, "svi-encode": SVIEncode, "reg-vae": RegularisedVAE,
}


def build_model(config: ModelConfig) -> GroupedVAE:
    """A fresh model of ``config.model_type`` (SVI's tables sized by ``config.svi_observations/svi_groups``)."""
    return MODEL_CLASSES[config.model_type](config)

