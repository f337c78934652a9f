"""The baselines: the mixture posterior (supplement §1), SVI (§2.1, §7), SVI-Encode and the regularised VAE (§8)."""
from __future__ import annotations

import json

import pytest
import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal, kl_divergence

from mlvae import MLVAE, ModelConfig, group_elbo, load_model
from mlvae.data import GroupBatchSampler
from mlvae.data.images import to_float
from mlvae.model.baselines import SVI, RegularisedVAE, SVIEncode, generate_observations, pair_penalty, symmetrised_kl
from mlvae.model.baselines.regularised import consecutive_pairs
from mlvae.model.objective import group_elbo_from_posteriors
from mlvae.model.posterior import (
    DiagonalNormal,
    mixture_kl_monte_carlo,
    mixture_log_density,
    mixture_sample,
)
from mlvae.training.cli import main as train_main
from mlvae.training.trainer_types import trainer_class

TRAIN_IMAGES = 3000
COMMON = ["--dataset", "mnist", "--max-train-images", str(TRAIN_IMAGES), "--max-val-images", "200",
          "--groups-per-batch", "16", "--threads", "1"]


def random_normal(rows: int, dim: int, seed: int) -> DiagonalNormal:
    gen = torch.Generator().manual_seed(seed)
    return DiagonalNormal(torch.randn((rows, dim), generator=gen), torch.randn((rows, dim), generator=gen))


def as_torch(q: DiagonalNormal) -> Independent:
    return Independent(Normal(q.mean, torch.exp(0.5 * q.logvar)), 1)


def train_cli(*args: str) -> int:
    """``python -m mlvae.train`` in this process; its exit code."""
    threads = torch.get_num_threads()  # main() sets the process-wide thread count
    try:
        return train_main([*COMMON, *args])
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def runs(shared_data, tmp_path_factory) -> dict:
    """Run folders of every baseline trained through ``python -m mlvae.train`` on real MNIST (about 30 s)."""
    root = tmp_path_factory.mktemp("baselines")
    # Bernoulli: with the learned-variance Normal decoder, eq. 17 drifts to latents where the SVI decoder
    # predicts its largest variance (see mlvae/model/baselines/svi_encode.py)
    assert train_cli("--model", "svi", "--likelihood", "bernoulli", "--epochs", "6", "--inference-steps", "20",
                     "--out", str(root / "svi")) == 0
    assert train_cli("--model", "svi-encode", "--svi-checkpoint", str(root / "svi"), "--epochs", "5",
                     "--out", str(root / "svi-encode")) == 0
    assert train_cli("--model", "reg-vae", "--reg-lambda", "2.5", "--epochs", "1", "--max-steps", "20",
                     "--out", str(root / "reg-vae")) == 0
    assert train_cli("--posterior", "mixture", "--epochs", "1", "--max-steps", "20",
                     "--out", str(root / "mixture")) == 0
    return {name: root / name for name in ("svi", "svi-encode", "reg-vae", "mixture")}


# ---- mixture of Normals (supplement §1) ------------------------------------------------------------------------

def test_mixture_density_matches_torch_mixture_of_each_group():
    evidence = random_normal(6, 3, seed=1)
    group_ids = torch.tensor([0, 0, 0, 1, 2, 2])
    samples = torch.randn(6, 3, generator=torch.Generator().manual_seed(2))
    ours = mixture_log_density(samples, evidence, group_ids)
    for g in range(3):
        members = (group_ids == g).nonzero().flatten()
        comp = as_torch(evidence.index(members))
        mixture = MixtureSameFamily(Categorical(torch.ones(len(members))), comp)
        torch.testing.assert_close(ours[members], mixture.log_prob(samples[members]))


def test_mixture_picks_each_component_of_the_own_group_equally_often():
    groups, size, calls = 300, 4, 10  # the sampler is O(B^2) in memory: many moderate batches
    means = torch.arange(float(size)).repeat(groups).unsqueeze(1) * 10.0
    evidence = DiagonalNormal(means, torch.full((groups * size, 1), -10.0))
    group_ids = torch.arange(groups).repeat_interleave(size)
    gen = torch.Generator().manual_seed(0)
    samples = torch.cat([mixture_sample(evidence, group_ids, gen) for _ in range(calls)])
    component = torch.round(samples.squeeze(1) / 10.0).long()
    counts = torch.bincount(component, minlength=size).float() / (groups * size * calls)
    assert component.min() >= 0 and component.max() < size
    assert (counts - 1 / size).abs().max() < 0.02  # 12000 draws: 3 standard errors is 0.012


def test_mixture_kl_estimate_is_unbiased_for_distinct_components():
    components = random_normal(3, 2, seed=3)
    mixture = MixtureSameFamily(Categorical(torch.ones(3)), as_torch(components))
    prior = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)
    torch.manual_seed(0)
    draws = mixture.sample((200_000,))
    reference = (mixture.log_prob(draws) - prior.log_prob(draws)).mean()
    replicas, calls = 250, 16  # one group of 3 per replica, L = |G| = 3 samples each (supplement eq. 3)
    evidence = DiagonalNormal(components.mean.repeat(replicas, 1), components.logvar.repeat(replicas, 1))
    group_ids = torch.arange(replicas).repeat_interleave(3)
    gen = torch.Generator().manual_seed(1)
    estimates = torch.cat([
        mixture_kl_monte_carlo(mixture_sample(evidence, group_ids, gen), evidence, group_ids, replicas)
        for _ in range(calls)
    ])
    error = estimates.std() / len(estimates) ** 0.5
    assert abs(estimates.mean() - reference) < 4 * error + 0.01


def test_mixture_objective_counts_content_kl_once_per_group_and_trains_the_content_heads():
    torch.manual_seed(0)
    model = MLVAE(ModelConfig(latent_dim=4, hidden_dim=32, posterior="mixture"))
    sizes = torch.tensor([3, 1, 4])
    group_ids = torch.arange(3).repeat_interleave(sizes)
    x = torch.rand(int(sizes.sum()), 1, 28, 28, generator=torch.Generator().manual_seed(0))
    terms = group_elbo(model, x, group_ids, 3, generator=torch.Generator().manual_seed(1))
    assert terms.kl_content.shape == (3,)
    per_group = torch.zeros(3).index_add(0, group_ids, terms.log_likelihood - terms.kl_style) - terms.kl_content
    torch.testing.assert_close(terms.elbo, per_group)
    torch.testing.assert_close(terms.loss, -per_group.sum() / 3)
    terms.loss.backward()
    d = model.latent_dim
    grad = model.encoder.heads.linear.weight.grad
    # pooling must not detach: the mixture path too
    assert grad[2 * d : 3 * d].abs().sum() > 0 and grad[3 * d :].abs().sum() > 0


# ---- regularised VAE (supplement eq. 18) -----------------------------------------------------------------------

def test_symmetrised_kl_is_zero_for_identical_posteriors_and_matches_the_closed_form_otherwise():
    p, q = random_normal(5, 4, seed=4), random_normal(5, 4, seed=5)
    torch.testing.assert_close(symmetrised_kl(p, p), torch.zeros(5))
    reference = 0.5 * (kl_divergence(as_torch(p), as_torch(q)) + kl_divergence(as_torch(q), as_torch(p)))
    ours = symmetrised_kl(p, q)
    assert (ours > 0).all()
    torch.testing.assert_close(ours, reference)
    torch.testing.assert_close(symmetrised_kl(q, p), ours)


def test_penalty_averages_consecutive_pairs_within_each_group_then_over_all_groups():
    sizes = {0: 1, 1: 2, 2: 3, 3: 4, 4: 5}
    ids = torch.cat([torch.full((n,), g) for g, n in sizes.items()])
    ids = ids[torch.randperm(len(ids), generator=torch.Generator().manual_seed(0))]  # groups interleaved
    content = random_normal(len(ids), 3, seed=6)
    expected = 0.0
    for g in sizes:
        members = (ids == g).nonzero().flatten().tolist()  # batch order
        pairs = [(members[i], members[i + 1]) for i in range(0, len(members) - 1, 2)]
        if pairs:
            sym = [symmetrised_kl(content.index(torch.tensor([a])), content.index(torch.tensor([b]))) for a, b in pairs]
            expected += float(torch.cat(sym).mean())
    expected /= len(sizes)
    first, second = consecutive_pairs(ids)
    assert len(first) == sum(n // 2 for n in sizes.values()) and (ids[first] == ids[second]).all()
    torch.testing.assert_close(pair_penalty(content, ids, len(sizes)), torch.tensor(expected))


def test_regularised_loss_is_the_vae_loss_plus_lambda_times_the_content_penalty():
    torch.manual_seed(0)
    reg = RegularisedVAE(ModelConfig(model_type="reg-vae", latent_dim=4, hidden_dim=32, reg_lambda=2.5))
    vae = MLVAE(ModelConfig(model_type="vae", latent_dim=4, hidden_dim=32))
    vae.load_state_dict(reg.state_dict())
    x = torch.rand(7, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    ids = torch.tensor([0, 0, 1, 1, 1, 2, 2])
    terms = reg(x, ids, 3, generator=torch.Generator().manual_seed(1))
    plain = group_elbo(vae, x, ids, 3, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(terms.loss - 2.5 * terms.penalty, plain.loss)
    assert terms.penalty > 0
    reg.zero_grad()
    terms.penalty.backward()  # the penalty moves the content heads only
    d, grad = reg.latent_dim, reg.encoder.heads.linear.weight.grad
    assert grad[: 2 * d].abs().sum() == 0 and grad[2 * d :].abs().sum() > 0


# ---- SVI, SVI-Encode and the checkpoints -----------------------------------------------------------------------

def test_svi_batches_update_the_rows_of_their_images_and_of_their_groups_only(runs, mnist_splits, tmp_path):
    config = load_model(runs["svi"])[1]
    config.train.max_train_images, config.model.svi_observations = 600, 0
    trainer = trainer_class("svi")(config, mnist_splits, tmp_path)
    assert config.model.svi_observations == 600 and trainer.module.style.mean.shape == (600, 10)
    batch = next(iter(GroupBatchSampler(trainer.train_data.groups, 8, 1, 10, seed=0)))
    x = to_float(trainer.train_data.images[batch.indices])
    trainer.batch_objective(x, batch).loss.backward()
    style_rows = trainer.module.style.mean.grad.abs().sum(1).nonzero().flatten()
    content_rows = trainer.module.content.mean.grad.abs().sum(1).nonzero().flatten()
    assert set(style_rows.tolist()) == set(batch.indices.tolist())
    assert set(content_rows.tolist()) == set(trainer.train_data.groups[batch.indices].tolist())


def test_svi_test_time_inference_raises_the_elbo_of_new_images_with_the_decoder_frozen(runs, mnist_splits):
    model, config = load_model(runs["svi"])
    assert isinstance(model, SVI) and config.model.svi_observations == TRAIN_IMAGES
    x = to_float(mnist_splits.test.images[:32])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    own = torch.arange(32)

    @torch.no_grad()
    def elbo(steps: int) -> float:
        style, content = model.infer(x, steps=steps)  # optimises with gradients even under no_grad
        generator = torch.Generator().manual_seed(9)
        return float(group_elbo_from_posteriors(model, x, style, content, own, generator).elbo.mean())

    at_start, short, long = elbo(0), elbo(10), elbo(100)
    assert at_start + 50 < short and short + 20 < long  # nats per image (measured: -411, -234, -170)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, before[key])
    assert all(p.requires_grad for p in model.parameters())
    enc = model.encode(x[:5])  # the evaluation interface: per-image posteriors, reproducible
    torch.testing.assert_close(enc.style.mean, model.encode(x[:5]).style.mean)
    assert enc.style.mean.shape == enc.content.mean.shape == (5, 10)


def test_svi_encode_recovers_generated_latents_better_than_an_untrained_encoder(runs):
    trained, config = load_model(runs["svi-encode"])
    svi = load_model(runs["svi"])[0]
    assert isinstance(trained, SVIEncode) and config.model.svi_checkpoint == str(runs["svi"])
    for key, value in svi.decoder.state_dict().items():  # the generative model is SVI's, untouched by training
        torch.testing.assert_close(trained.decoder.state_dict()[key], value)
    torch.manual_seed(0)
    untrained = SVIEncode(config.model)
    untrained.decoder.load_state_dict(svi.decoder.state_dict())
    images, content, style = generate_observations(svi, 500, torch.Generator().manual_seed(3))
    truth = svi.decode(content, style)

    def error(encoder: SVIEncode) -> float:
        with torch.no_grad():
            enc = encoder.encode(images)
            return float(((svi.decode(enc.content.mean, enc.style.mean) - truth) ** 2).mean())

    assert error(trained) < 0.5 * error(untrained)
    with torch.no_grad():
        assert trained(images).log_likelihood.mean() > untrained(images).log_likelihood.mean()


@pytest.mark.parametrize("name, kind", [("svi", SVI), ("svi-encode", SVIEncode), ("reg-vae", RegularisedVAE),
                                        ("mixture", MLVAE)])
def test_each_baseline_checkpoint_rebuilds_the_model_from_its_config(runs, mnist_splits, name, kind):
    folder = runs[name] / "best"
    saved = json.loads((folder / "config.json").read_text())["model"]
    model, config = load_model(runs[name])
    assert type(model) is kind and config.model.model_type == saved["model_type"]
    if name == "svi":
        assert (saved["svi_observations"], saved["svi_groups"]) == (TRAIN_IMAGES, 10)
    if name == "reg-vae":
        assert config.model.reg_lambda == 2.5
    if name == "mixture":
        assert config.model.posterior == "mixture"
    from safetensors.torch import load_file

    weights = load_file(str(folder / "model.safetensors"))
    state = model.state_dict()
    assert set(weights) == set(state)
    for key, value in weights.items():
        torch.testing.assert_close(state[key], value)
    x = to_float(mnist_splits.test.images[:3])
    enc = model.encode(x)
    assert model.decode(enc.content.mean, enc.style.mean).shape == x.shape


def test_flags_that_do_not_go_together_get_one_clear_message(runs, tmp_path, caplog):
    assert train_cli("--model", "svi", "--posterior", "mixture", "--out", str(tmp_path / "a")) == 2
    assert "mixture posterior is an ML-VAE option" in caplog.text
    assert train_cli("--model", "svi-encode", "--out", str(tmp_path / "b")) == 2
    assert "needs --svi-checkpoint" in caplog.text
    assert train_cli("--model", "svi-encode", "--svi-checkpoint", str(runs["reg-vae"]),
                     "--out", str(tmp_path / "c")) == 2
    assert "holds a 'reg-vae' model: give an SVI checkpoint" in caplog.text
