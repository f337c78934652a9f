"""``widen_into``: a wider conv network started from a trained narrower one computes what the narrow one did."""
import pytest
import torch

from mlvae import MLVAE, ModelConfig
from mlvae.model.widen import widen_into


def conv_model(width: float, style_dim: int = 4) -> MLVAE:
    return MLVAE(ModelConfig(architecture="conv", image_channels=3, image_size=64, width=width, latent_dim=12,
                             style_dim=style_dim, likelihood="normal-fixed", sigma=0.1))


def outputs(model: MLVAE, x: torch.Tensor, z: torch.Tensor) -> list[torch.Tensor]:
    return [*model.encoder(x), *model.decoder(z)]


@pytest.mark.parametrize("train_mode", [False, True])
def test_widened_model_computes_what_the_narrow_one_did(train_mode):
    torch.manual_seed(0)
    narrow, wide = conv_model(0.25), conv_model(0.5)
    narrow.train()  # a few steps, so that BatchNorm's statistics are not the init's
    opt = torch.optim.SGD(narrow.parameters(), lr=0.01)
    for _ in range(3):
        x = torch.rand(6, 3, 64, 64)
        loss = sum(o.square().mean() for o in outputs(narrow, x, torch.randn(6, 16)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    widen_into(wide, narrow)
    assert sum(p.numel() for p in wide.parameters()) > 2 * sum(p.numel() for p in narrow.parameters())
    x, z = torch.rand(5, 3, 64, 64), torch.randn(5, 16)
    for m in (narrow, wide):
        m.train(train_mode)
    with torch.no_grad():
        for a, b in zip(outputs(narrow, x, z), outputs(wide, x, z)):
            assert a.shape == b.shape and torch.allclose(a, b, atol=1e-5), (a - b).abs().max()
    # the new channels learn: a training step moves the zero weights into the old channels
    wide.train()
    loss = sum(o.square().mean() for o in outputs(wide, x, z))
    loss.backward()
    n_in, n_out = narrow.decoder.deconvs[0].weight.shape[:2]  # (in, out, k, k)
    new_into_old = wide.decoder.deconvs[0].weight[n_in:, :n_out]
    assert new_into_old.abs().sum() == 0 and wide.decoder.deconvs[0].weight.grad[n_in:, :n_out].abs().sum() > 0


def test_models_that_differ_in_more_than_width_are_refused():
    with pytest.raises(ValueError, match="at least as wide"):
        widen_into(conv_model(0.25), conv_model(0.5))
    with pytest.raises(ValueError, match="at least as wide"):  # a larger style in the narrow one
        widen_into(conv_model(0.5), conv_model(0.25, style_dim=6))
