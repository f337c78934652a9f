"""The trainer of each model kind (``mlvae.model_kinds``: a kind names its trainer class)."""
from __future__ import annotations

from mlvae.model_kinds import MODEL_KINDS
from mlvae.training.baseline_trainers import SVIEncodeTrainer, SVITrainer
from mlvae.training.trainer import Trainer

TRAINER_CLASSES: dict[str, type[Trainer]] = {cls.__name__: cls for cls in (Trainer, SVITrainer, SVIEncodeTrainer)}


def trainer_class(model_type: str) -> type[Trainer]:
    """The trainer of ``model_type`` (SVI and SVI-Encode feed their models differently from the others)."""
    return TRAINER_CLASSES[MODEL_KINDS[model_type].trainer]
