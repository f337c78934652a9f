"""Which trainer trains each ``ModelConfig.model_type``."""
from __future__ import annotations

from mlvae.training.baseline_trainers import SVIEncodeTrainer, SVITrainer
from mlvae.training.trainer import Trainer

TRAINERS: dict[str, type[Trainer]] = {"svi": SVITrainer, "svi-encode": SVIEncodeTrainer}


def trainer_class(model_type: str) -> type[Trainer]:
    """The trainer of ``model_type``: SVI and SVI-Encode feed their models differently from the others."""
    return TRAINERS.get(model_type, Trainer)
