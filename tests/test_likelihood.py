"""The likelihood is one class in one registry (``mlvae.model.likelihood``): a likelihood defined only here
(Laplace, with a learned scale) is registered, trains a step, is checkpointed and loads back; the built-in ones
keep the densities, means and samples of their formulas."""
import json
import math

import pytest
import torch

from mlvae import ModelConfig, load_model
from mlvae.config import LIKELIHOODS, RunConfig, TrainConfig
from mlvae.model.likelihood import (
    LIKELIHOOD_TYPES,
    Likelihood,
    likelihood_of,
    register_likelihood,
    unregister_likelihood,
)
from mlvae.model.objective import group_elbo
from mlvae.model.posterior import bounded_logvar
from mlvae.training.trainer import Trainer


class Laplace(Likelihood):
    """Laplace per pixel with a learned log-scale: (location in [0, 1], log b)."""

    name = "laplace"
    maps = 2

    def parameters(self, maps):
        location, raw = maps
        return torch.sigmoid(location), bounded_logvar(raw)

    def log_prob(self, x, params):
        location, log_scale = params
        return (-(x - location).abs() / log_scale.exp() - log_scale - math.log(2.0)).flatten(1).sum(-1)

    def mean(self, params):
        return params[0]

    def sample(self, params, generator=None):
        location, log_scale = params
        uniform = torch.rand(location.shape, generator=generator) - 0.5
        return location - log_scale.exp() * uniform.sign() * torch.log1p(-2.0 * uniform.abs())


@pytest.fixture
def laplace():
    register_likelihood(Laplace)
    yield Laplace
    unregister_likelihood("laplace")
    assert "laplace" not in LIKELIHOODS and "laplace" not in LIKELIHOOD_TYPES


def test_the_registry_holds_one_class_for_each_likelihood_name():
    assert sorted(LIKELIHOOD_TYPES) == sorted(LIKELIHOODS) == ["bernoulli", "normal", "normal-fixed", "normal-unit"]
    with pytest.raises(ValueError, match="likelihood"):
        ModelConfig(likelihood="laplace")  # not registered: not a choice


def test_a_likelihood_defined_here_trains_a_step_and_loads_back(laplace, mnist_splits, tmp_path):
    config = RunConfig(model=ModelConfig(hidden_dim=32, likelihood="laplace"),
                       train=TrainConfig(epochs=1, max_steps=1, max_train_images=200, max_val_images=50, device="cpu"))
    torch.manual_seed(0)
    trainer = Trainer(config, mnist_splits, tmp_path)
    decoder = trainer.module.decoder.net[-1]
    assert decoder.out_features == 2 * 784  # two maps per pixel: location and log-scale
    before = [p.detach().clone() for p in trainer.module.parameters()]
    trainer.fit()
    assert trainer.progress.step == 1
    assert any(not torch.equal(a, p) for a, p in zip(before, trainer.module.parameters(), strict=True))
    assert json.loads((tmp_path / "config.json").read_text())["model"]["likelihood"] == "laplace"
    model, loaded = load_model(tmp_path)  # its best/: the class is found by the name in config.json
    x = torch.rand(4, 1, 28, 28)
    c, s = torch.randn(4, model.latent_dim), torch.randn(4, model.style_dim)
    decoded = model.decode_params(c, s)
    location, log_scale = decoded.params
    expected = (-(x - location).abs() / log_scale.exp() - log_scale - math.log(2.0)).flatten(1).sum(-1)
    assert torch.allclose(decoded.log_prob(x), expected) and torch.equal(model.decode(c, s), location.clamp(0, 1))
    assert decoded.sample(torch.Generator().manual_seed(0)).shape == (4, 1, 28, 28)
    terms = group_elbo(model, x, torch.tensor([0, 0, 1, 1]), 2, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(terms.loss) and terms.reconstruction.shape == x.shape


@pytest.mark.parametrize("name, maps", [("normal", 2), ("normal-unit", 1), ("normal-fixed", 1), ("bernoulli", 1)])
def test_each_built_in_likelihood_keeps_its_formula(name, maps):
    config = ModelConfig(likelihood=name, sigma=0.2)
    likelihood = likelihood_of(config)
    assert likelihood.maps == maps
    torch.manual_seed(0)
    raw = [torch.randn(3, 1, 4, 4) for _ in range(maps)]
    x = torch.rand(3, 1, 4, 4)
    decoded = likelihood.decoded(raw)
    if name == "bernoulli":
        p = torch.sigmoid(raw[0])
        expected = (x * p.log() + (1 - x) * (1 - p).log()).flatten(1).sum(-1)
        assert torch.allclose(decoded.mean, p)
    else:
        mean = torch.sigmoid(raw[0])
        logvar = {"normal": 5 * torch.tanh(raw[-1]), "normal-unit": torch.zeros_like(mean),
                  "normal-fixed": torch.full_like(mean, 2 * math.log(0.2))}[name]
        expected = (-0.5 * ((x - mean) ** 2 / logvar.exp() + logvar + math.log(2 * math.pi))).flatten(1).sum(-1)
        assert torch.equal(decoded.mean, mean)
    assert torch.allclose(decoded.log_prob(x), expected, atol=1e-5)
    samples = decoded.sample(torch.Generator().manual_seed(0))
    assert samples.shape == x.shape and not torch.equal(samples, decoded.mean)


