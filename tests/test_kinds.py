"""The model kinds' registry (mlvae.model_kinds): every kind resolves to its model class and trainer, pools as it says,
and is offered by --model."""
import pytest

from mlvae.config import ModelConfig
from mlvae.model.model_types import build_model
from mlvae.model_kinds import KINDS, MODEL_TYPES
from mlvae.training.cli import build_parser
from mlvae.training.trainer import Trainer
from mlvae.training.trainer_types import trainer_class


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_each_kind_builds_its_model_and_names_its_trainer(kind):
    model = build_model(ModelConfig(model_type=kind.name, latent_dim=3, hidden_dim=8, svi_observations=2,
                                    svi_groups=1))
    assert type(model).__name__ == kind.model and model.is_grouped == kind.pools
    trainer = trainer_class(kind.name)
    assert issubclass(trainer, Trainer) and trainer.__name__ == kind.trainer
    assert kind.display and kind.description and kind.help


def test_the_model_flag_offers_every_kind_with_its_help():
    action = next(a for a in build_parser()._actions if "--model" in a.option_strings)
    assert tuple(action.choices) == MODEL_TYPES
    assert all(f"{kind.name}: {kind.help}" in action.help for kind in KINDS)
