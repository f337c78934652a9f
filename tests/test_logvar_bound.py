"""The encoder's log-variance bound: the paper's 5*tanh by default, a wider one for style and content on request."""
import pytest
import torch

from mlvae import MLVAE, ModelConfig
from mlvae.checkpoint.folder import load_model, save_model
from mlvae.config import RunConfig
from mlvae.model.networks import bounded_logvar


def test_the_default_bound_is_the_papers_five_tanh_and_a_wider_one_keeps_its_slope():
    raw = torch.linspace(-6, 6, 101)
    assert torch.equal(bounded_logvar(raw), 5.0 * torch.tanh(raw))
    wide = bounded_logvar(raw, 10.0)
    assert wide.min() < -9 and wide.max() > 9 and wide.abs().max() < 10
    small = torch.tensor([-1e-3, 1e-3])  # the slope at 0 is 5 whatever the bound
    assert torch.allclose(bounded_logvar(small, 10.0), bounded_logvar(small), rtol=1e-5)


def saturated(model: MLVAE) -> MLVAE:
    """Every log-variance head driven far negative, so each sits at its bound."""
    with torch.no_grad():
        model.encoder.heads.linear.bias.fill_(-50.0)
        model.encoder.heads.linear.weight.zero_()
    return model.eval()


def conv_config(**bounds: float) -> ModelConfig:
    return ModelConfig(architecture="conv", width=0.25, latent_dim=6, style_dim=3,
                       likelihood="normal-fixed", **bounds)


def test_a_wider_content_bound_lets_only_the_content_be_more_precise(tmp_path):
    x = torch.rand(2, 3, 64, 64)
    paper = saturated(MLVAE(conv_config())).encode(x)
    assert paper.style.logvar.min() >= -5 and paper.content.logvar.min() >= -5
    config = conv_config(content_logvar_bound=10.0)
    model = saturated(MLVAE(config))
    enc = model.encode(x)
    assert enc.content.logvar.max() < -9.9 and enc.style.logvar.min() >= -5
    # the bound is part of the saved config, so a loaded checkpoint computes the same posteriors
    save_model(tmp_path, model, RunConfig(model=config))
    loaded, loaded_config = load_model(tmp_path)
    assert loaded_config.model.content_logvar_bound == 10.0 and loaded_config.model.style_logvar_bound == 5.0
    assert torch.equal(loaded.eval().encode(x).content.logvar, enc.content.logvar)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf"), 100.0])
def test_a_bound_outside_its_range_is_refused(bad):
    with pytest.raises(ValueError, match="--style-logvar-bound must be in"):
        conv_config(style_logvar_bound=bad)
