"""Which model class and which trainer each ``ModelConfig.model_type`` uses."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .baselines import SVI, RegularisedVAE, SVIEncode
from .config import ModelConfig
from .model import MLVAE

if TYPE_CHECKING:
    from .training import Trainer

MODEL_CLASSES: dict[str, type[MLVAE]] = {
    "mlvae": MLVAE, "vae": MLVAE, "svi": SVI, "svi-encode": SVIEncode, "reg-vae": RegularisedVAE,
}


def build_model(config: ModelConfig) -> MLVAE:
    """A fresh model of ``config.model_type`` (SVI's tables sized by ``config.svi_observations/svi_groups``)."""
    return MODEL_CLASSES[config.model_type](config)


def trainer_class(model_type: str) -> "type[Trainer]":
    """The trainer of ``model_type``: SVI and SVI-Encode feed their models differently from the others."""
    from .baselines.trainers import SVIEncodeTrainer, SVITrainer  # they import the training module
    from .training import Trainer

    return {"svi": SVITrainer, "svi-encode": SVIEncodeTrainer}.get(model_type, Trainer)
