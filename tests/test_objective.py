"""The group ELBO (paper eq. 3 and 5), and one test for each mistake found in public re-implementations:
detached pooling, a per-observation content KL, N(0, 0.1) noise, in-place ops autograd needs, and NaNs from
saturated log-variances."""
import pytest
import torch

from mlvae import MLVAE, ModelConfig, group_elbo
from mlvae.model.likelihood import bernoulli_log_likelihood, normal_log_likelihood
from mlvae.model.posterior import DiagonalNormal, kl_to_standard_normal, mixture_kl_monte_carlo, product_of_normals
from mlvae.model.reference import group_elbo_loop

SIZES = [3, 1, 5, 2]


def batch(sizes=SIZES, seed=0, size=28, channels=1):
    gen = torch.Generator().manual_seed(seed)
    n = sum(sizes)
    x = torch.rand((n, channels, size, size), generator=gen)
    group_ids = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    noise = (torch.randn((n, 4), generator=gen), torch.randn((n, 4), generator=gen))
    return x, group_ids, noise


def test_vectorised_objective_equals_the_literal_per_group_algorithm(mlp_model):
    x, group_ids, noise = batch()
    fast = group_elbo(mlp_model, x, group_ids, len(SIZES), noise=noise).loss
    slow = group_elbo_loop(mlp_model, x, group_ids, noise=noise)
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-3)
    grads_fast = torch.autograd.grad(fast, list(mlp_model.parameters()))
    grads_slow = torch.autograd.grad(slow, list(mlp_model.parameters()))
    for a, b in zip(grads_fast, grads_slow, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_loss_is_minus_the_mean_over_groups_of_the_group_elbo(mlp_model):
    # A known mistake: the content KL counts once per group and the loss is divided by the number of groups,
    # not by batch size or pixels.
    x, group_ids, noise = batch()
    terms = group_elbo(mlp_model, x, group_ids, len(SIZES), noise=noise)
    enc = mlp_model.encode(x)
    expected_kl_c = kl_to_standard_normal(product_of_normals(enc.content, group_ids, len(SIZES)))
    assert terms.kl_content.shape == (len(SIZES),)
    torch.testing.assert_close(terms.kl_content, expected_kl_c)
    per_group = torch.stack([
        (terms.log_likelihood - terms.kl_style)[group_ids == g].sum() - expected_kl_c[g] for g in range(len(SIZES))
    ])
    torch.testing.assert_close(terms.elbo, per_group)
    torch.testing.assert_close(terms.loss, -per_group.sum() / len(SIZES))


def test_loss_of_two_batches_joined_is_the_mean_of_their_losses(mlp_model):
    x, group_ids, noise = batch()
    first = group_ids < 2
    a = group_elbo(mlp_model, x[first], group_ids[first], 2, noise=(noise[0][first], noise[1][first])).loss
    b = group_elbo(mlp_model, x[~first], group_ids[~first] - 2, 2, noise=(noise[0][~first], noise[1][~first])).loss
    joined = group_elbo(mlp_model, x, group_ids, 4, noise=noise).loss
    torch.testing.assert_close(joined, (a + b) / 2)  # divided by 4 groups, not by 11 images


def test_content_kl_of_a_group_of_copies_is_that_of_the_pooled_posterior_once(mlp_model):
    x = torch.rand(1, 1, 28, 28).repeat(6, 1, 1, 1)
    terms = group_elbo(mlp_model, x, torch.zeros(6, dtype=torch.long), 1)
    single = mlp_model.encode(x[:1]).content
    pooled = DiagonalNormal(single.mean, single.logvar - torch.log(torch.tensor(6.0)))
    torch.testing.assert_close(terms.kl_content, kl_to_standard_normal(pooled), rtol=1e-5, atol=1e-5)


def test_gradients_reach_the_content_heads(mlp_model):
    # A known mistake: pooling on detached tensors leaves the content heads without gradient.
    x, group_ids, _ = batch()
    group_elbo(mlp_model, x, group_ids, len(SIZES)).loss.backward()
    grad = mlp_model.encoder.heads.linear.weight.grad
    d = mlp_model.latent_dim
    content_mean_rows, content_logvar_rows = grad[2 * d : 3 * d], grad[3 * d : 4 * d]
    assert content_mean_rows.abs().sum() > 0 and content_logvar_rows.abs().sum() > 0
    # the decoder's content inputs get gradient too
    assert mlp_model.decoder.net[0].weight.grad[:, :d].abs().sum() > 0


def test_content_samples_use_unit_normal_noise_around_the_group_posterior():
    # A known mistake: noise from N(0, 0.1) would give standardised samples a std of about 0.32.
    torch.manual_seed(0)
    model = MLVAE(ModelConfig(latent_dim=4, hidden_dim=32))
    x = torch.rand(1, 1, 28, 28).repeat(20000, 1, 1, 1)
    group_ids = torch.arange(20000) // 4
    with torch.no_grad():
        terms = group_elbo(model, x, group_ids, 5000, generator=torch.Generator().manual_seed(1))
        q = product_of_normals(model.encode(x).content, group_ids, 5000).index(group_ids)
    standardised = (terms.content_sample - q.mean) / q.variance.sqrt()
    assert abs(standardised.std().item() - 1.0) < 0.02


def test_objective_makes_no_in_place_change_to_tensors_autograd_needs(mlp_model):
    # A known mistake: an in-place exp_ on a log-variance makes backward fail or changes the encoder's outputs.
    x, group_ids, _ = batch()
    enc = mlp_model.encode(x)
    before = enc.content.logvar.clone()
    _ = enc.content.variance
    torch.testing.assert_close(enc.content.logvar, before)
    with torch.autograd.set_detect_anomaly(True):
        group_elbo(mlp_model, x, group_ids, len(SIZES)).loss.backward()


def test_log_variances_are_bounded_by_five_tanh_and_the_loss_stays_finite():
    # A known mistake: saturated log-variances must not produce NaN.
    torch.manual_seed(0)
    model = MLVAE(ModelConfig(latent_dim=4, hidden_dim=32))
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1000.0)
    x, group_ids, _ = batch()
    enc = model.encode(x)
    assert enc.content.logvar.abs().max() <= 5.0 and enc.style.logvar.abs().max() <= 5.0
    loss = group_elbo(model, x, group_ids, len(SIZES)).loss
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_plain_vae_baseline_is_a_standard_vae_over_the_joint_latent():
    torch.manual_seed(0)
    vae = MLVAE(ModelConfig(model_type="vae", latent_dim=4, hidden_dim=32))
    x, group_ids, noise = batch()
    terms = group_elbo(vae, x, group_ids, len(SIZES), noise=noise)  # the grouping is ignored
    enc = vae.encode(x)
    c = enc.content.mean + enc.content.variance.sqrt() * noise[0]
    s = enc.style.mean + enc.style.variance.sqrt() * noise[1]
    mean, logvar = vae.decode_params(c, s).params
    kl = kl_to_standard_normal(enc.content) + kl_to_standard_normal(enc.style)
    expected = -(normal_log_likelihood(x, mean, logvar) - kl).mean()
    assert terms.num_groups == x.shape[0]
    torch.testing.assert_close(terms.loss, expected)


def test_likelihoods_match_torch_distributions():
    x = torch.rand(3, 1, 4, 4)
    mean, logvar = torch.rand(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    normal = torch.distributions.Normal(mean, (0.5 * logvar).exp()).log_prob(x).flatten(1).sum(-1)
    torch.testing.assert_close(normal_log_likelihood(x, mean, logvar), normal)
    binary = (x > 0.5).float()
    logits = torch.randn(3, 1, 4, 4)
    bern = torch.distributions.Bernoulli(logits=logits).log_prob(binary).flatten(1).sum(-1)
    torch.testing.assert_close(bernoulli_log_likelihood(binary, logits), bern)


@pytest.mark.parametrize("likelihood", ["normal", "normal-unit", "bernoulli"])
def test_conv_network_shapes_and_width_multiplier(likelihood):
    conv = {"architecture": "conv", "latent_dim": 50, "likelihood": likelihood}
    small, full = MLVAE(ModelConfig(**conv, width=0.25)), MLVAE(ModelConfig(**conv, width=1.0))
    x = torch.rand(6, 3, 64, 64)
    enc = small.encode(x)
    assert enc.style.mean.shape == (6, 50) and enc.content.logvar.shape == (6, 50)
    assert small.decode(enc.content.mean, enc.style.mean).shape == (6, 3, 64, 64)
    def count(m: torch.nn.Module) -> int:
        return sum(p.numel() for p in m.parameters())

    assert count(small) < count(full) / 3
    terms = group_elbo(small, x, torch.tensor([0, 0, 0, 1, 1, 2]), 3)
    terms.loss.backward()
    assert torch.isfinite(terms.loss)


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
def test_unit_variance_decoder_outputs_only_a_mean_and_scores_a_unit_normal(architecture):
    size, channels = (28, 1) if architecture == "mlp" else (64, 3)
    config = dict(architecture=architecture, latent_dim=4, width=0.125)
    unit = MLVAE(ModelConfig(likelihood="normal-unit", **config))
    learned = MLVAE(ModelConfig(likelihood="normal", **config))
    assert sum(p.numel() for p in unit.decoder.parameters()) < sum(p.numel() for p in learned.decoder.parameters())
    z = torch.randn(3, 4)
    mean, logvar = unit.decode_params(z, z).params
    assert torch.equal(logvar, torch.zeros_like(mean)) and 0 <= mean.min() and mean.max() <= 1
    x = torch.rand(3, channels, size, size)
    terms = group_elbo(unit, x, torch.tensor([0, 0, 1]), 2)
    expected = torch.distributions.Normal(mean.new_zeros(()), 1.0)
    mean_used, _ = unit.decode_params(terms.content_sample, terms.style_sample).params
    torch.testing.assert_close(terms.log_likelihood, expected.log_prob(x - mean_used).flatten(1).sum(-1))


# ---- group ids that skip a number (raw class labels): refused, never a silent NaN ------------------------------
GAPPED = torch.tensor([0, 0, 2, 2])  # id 1 has no observation


@pytest.mark.parametrize("posterior", ["product", "mixture"])
@pytest.mark.parametrize("num_groups", [None, 3])
def test_group_elbo_refuses_group_ids_that_skip_a_number(posterior, num_groups):
    torch.manual_seed(0)
    model = MLVAE(ModelConfig(latent_dim=4, hidden_dim=32, posterior=posterior))
    x = torch.rand(4, 1, 28, 28)
    with pytest.raises(ValueError, match=r"no observation has id \[1\].*torch.unique"):
        group_elbo(model, x, GAPPED, num_groups)
    with pytest.raises(ValueError, match=r"no observation has id \[1\]"):
        model(x, GAPPED, num_groups)  # the module's forward, which DDP calls
    compact = torch.unique(GAPPED, return_inverse=True)[1]
    assert torch.isfinite(group_elbo(model, x, compact).loss)


def test_group_elbo_refuses_ids_out_of_range_or_of_the_wrong_length(mlp_model):
    x = torch.rand(4, 1, 28, 28)
    with pytest.raises(ValueError, match="lie in 0..1"):
        group_elbo(mlp_model, x, torch.tensor([0, 0, 1, 2]), 2)
    with pytest.raises(ValueError, match="lie in"):
        group_elbo(mlp_model, x, torch.tensor([-1, 0, 1, 1]), 2)
    with pytest.raises(ValueError, match="3 entries for a batch of 4"):
        group_elbo(mlp_model, x, torch.tensor([0, 0, 1]), 2)


def test_pooling_and_mixture_kl_refuse_group_ids_that_skip_a_number():
    evidence = DiagonalNormal(torch.zeros(4, 3), torch.zeros(4, 3))
    with pytest.raises(ValueError, match=r"no observation has id \[1\]"):
        product_of_normals(evidence, GAPPED, 3)
    with pytest.raises(ValueError, match=r"no observation has id \[1\]"):
        mixture_kl_monte_carlo(torch.zeros(4, 3), evidence, GAPPED, 3)
    pooled = product_of_normals(evidence, torch.tensor([0, 0, 1, 1]), 2)
    torch.testing.assert_close(pooled.variance, torch.full((2, 3), 0.5))
