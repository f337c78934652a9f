"""``widen_into`` and ``grow_latents_into``: a wider network, or one with a larger content or style, started from a
trained smaller one computes what the smaller one did."""
import pytest
import torch

from mlvae import MLVAE, ModelConfig
from mlvae.model.widen import grow_latents_into, widen_into


def conv_model(width: float, style_dim: int = 4, latent_dim: int = 12) -> MLVAE:
    return MLVAE(ModelConfig(architecture="conv", width=width, latent_dim=latent_dim,
                             style_dim=style_dim, likelihood="normal-fixed", sigma=0.1))


def outputs(model: MLVAE, x: torch.Tensor, z: torch.Tensor) -> list[torch.Tensor]:
    return [*model.encoder(x), *model.decoder(z).params]


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
        for a, b in zip(outputs(narrow, x, z), outputs(wide, x, z), strict=True):
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


def trained(model: MLVAE) -> MLVAE:
    """A few SGD steps, so that no weight or BatchNorm statistic is the init's."""
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(3):
        x = torch.rand(6, 3, 64, 64)
        z = torch.randn(6, model.config.latent_dim + model.config.style_size)
        loss = sum(o.square().mean() for o in outputs(model, x, z))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@pytest.mark.parametrize("train_mode", [False, True])
@pytest.mark.parametrize("content_dim,style_dim", [(12, 7), (20, 4), (15, 6)])
def test_grown_latents_keep_the_old_posteriors_and_images_and_start_their_new_dimensions_at_the_prior(
        train_mode, content_dim, style_dim):
    torch.manual_seed(0)
    small = trained(conv_model(0.25, style_dim=4))
    big = conv_model(0.25, style_dim=style_dim, latent_dim=content_dim)
    grow_latents_into(big, small)
    for m in (small, big):
        m.train(train_mode)
    x = torch.rand(5, 3, 64, 64)
    new_s, new_c = style_dim - 4, content_dim - 12
    with torch.no_grad():
        s_mean, s_logvar, c_mean, c_logvar = small.encoder(x)
        b_mean, b_logvar, bc_mean, bc_logvar = big.encoder(x)
        assert torch.allclose(b_mean[:, :4], s_mean, atol=1e-6) and torch.allclose(b_logvar[:, :4], s_logvar, atol=1e-6)
        assert torch.allclose(bc_mean[:, :12], c_mean, atol=1e-6)
        assert torch.allclose(bc_logvar[:, :12], c_logvar, atol=1e-6)
        # the new dimensions' variance is the prior's
        assert torch.equal(b_logvar[:, 4:], torch.zeros(5, new_s))
        assert torch.equal(bc_logvar[:, 12:], torch.zeros(5, new_c))
        content, style = torch.randn(5, 12), torch.randn(5, 4)
        # whatever the new dimensions hold
        grown = torch.cat([content, 10 * torch.randn(5, new_c), style, 10 * torch.randn(5, new_s)], -1)
        for a, b in zip(small.decoder(torch.cat([content, style], -1)).params, big.decoder(grown).params, strict=True):
            assert torch.allclose(a, b, atol=1e-5), (a - b).abs().max()
    # the decoder learns to read the new dimensions: their zero weights get a gradient
    big.train()
    enc = big.encode(x)
    image, _ = big.decode_params(enc.content.rsample(), enc.style.rsample()).params
    (image - x).square().sum().backward()
    grad = big.decoder.project[0].weight.grad
    new_columns = [grad[:, 12:content_dim], grad[:, content_dim + 4:]]
    assert all(g.abs().sum() > 0 for g in new_columns if g.numel())


def test_growing_refuses_a_smaller_latent_or_another_width():
    with pytest.raises(ValueError, match="may only grow"):
        grow_latents_into(conv_model(0.25, style_dim=3), conv_model(0.25, style_dim=4))
    with pytest.raises(ValueError, match="may only grow"):
        grow_latents_into(conv_model(0.25, latent_dim=10, style_dim=6), conv_model(0.25, style_dim=4))
    with pytest.raises(ValueError, match="only --latent-dim and --style-dim may differ"):
        grow_latents_into(conv_model(0.5, style_dim=6), conv_model(0.25, style_dim=4))
