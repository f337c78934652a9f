"""Closed-form checks of the group posterior (paper eq. 7, supplement eq. 8-12 and §1)."""
import math

import pytest
import torch

from mlvae.model.posterior import (
    DiagonalNormal,
    kl_to_standard_normal,
    mixture_kl_monte_carlo,
    mixture_sample,
    pool,
    product_of_normals,
)


def test_pooling_n_identical_posteriors_divides_variance_by_n():
    # A known mistake: averaging variances (or a harmonic mean) would leave the variance unchanged.
    mean, logvar = torch.tensor([[0.3, -1.2, 2.0]]), torch.tensor([[0.5, -1.0, 2.0]])
    for n in (1, 2, 5, 17):
        q = pool(DiagonalNormal(mean.repeat(n, 1), logvar.repeat(n, 1)))
        torch.testing.assert_close(q.variance, logvar.exp() / n)
        torch.testing.assert_close(q.mean, mean)


def test_pooled_density_is_the_normalised_product_of_densities_on_a_grid():
    torch.manual_seed(1)
    evidence = DiagonalNormal(torch.randn(4, 2, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64))
    q = pool(evidence)
    grid = torch.linspace(-8, 8, 20001, dtype=torch.float64)
    step = grid[1] - grid[0]
    for dim in range(2):
        log_product = sum(
            torch.distributions.Normal(evidence.mean[i, dim], evidence.variance[i, dim].sqrt()).log_prob(grid)
            for i in range(4)
        )
        product = torch.exp(log_product - log_product.max())
        product = product / (product.sum() * step)
        pooled = torch.distributions.Normal(q.mean[0, dim], q.variance[0, dim].sqrt()).log_prob(grid).exp()
        assert torch.max(torch.abs(product - pooled)) < 1e-6 * pooled.max() + 1e-9


def test_vectorised_pooling_matches_per_group_precision_sums_for_groups_of_different_sizes():
    torch.manual_seed(2)
    sizes = [1, 3, 2, 7, 1, 4]
    group_ids = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))[torch.randperm(sum(sizes))]
    n = sum(sizes)
    evidence = DiagonalNormal(torch.randn(n, 5, dtype=torch.float64), 2 * torch.randn(n, 5, dtype=torch.float64))
    q = product_of_normals(evidence, group_ids, len(sizes))
    for g in range(len(sizes)):
        members = group_ids == g
        precision = (1 / evidence.variance[members]).sum(0)
        torch.testing.assert_close(q.variance[g], 1 / precision)
        torch.testing.assert_close(q.mean[g], (evidence.mean[members] / evidence.variance[members]).sum(0) / precision)


def test_pooling_is_finite_with_saturated_and_extreme_log_variances():
    # A known mistake: exp(-logvar) summed naively over- or underflows; log-space pooling must not.
    logvar = torch.tensor([[-5.0, 5.0], [-80.0, 80.0], [-80.0, 80.0], [90.0, -90.0]], requires_grad=True)
    mean = torch.randn(4, 2, requires_grad=True)
    q = product_of_normals(DiagonalNormal(mean, logvar), torch.tensor([0, 0, 1, 1]), 2)
    assert torch.isfinite(q.mean).all() and torch.isfinite(q.logvar).all()
    (q.mean.sum() + q.logvar.sum()).backward()
    assert torch.isfinite(logvar.grad).all() and torch.isfinite(mean.grad).all()
    torch.testing.assert_close(q.logvar[1], torch.tensor([-80.0, -90.0]), atol=1e-3, rtol=0)


def test_pool_rejects_an_empty_set():
    with pytest.raises(ValueError, match="at least one"):
        pool(DiagonalNormal(torch.zeros(3, 2), torch.zeros(3, 2)), torch.tensor([], dtype=torch.long))


def test_kl_to_standard_normal_matches_torch_distributions():
    q = DiagonalNormal(torch.randn(3, 4), torch.randn(3, 4))
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(q.mean, q.variance.sqrt()), torch.distributions.Normal(0.0, 1.0)
    ).sum(-1)
    torch.testing.assert_close(kl_to_standard_normal(q), expected)


def test_reparameterisation_noise_is_standard_normal():
    # A known mistake: N(0, 0.1) noise would make these samples far too concentrated.
    q = DiagonalNormal(torch.zeros(200_000, 1), torch.full((200_000, 1), math.log(4.0)))
    sample = q.rsample(torch.Generator().manual_seed(0))
    assert abs(sample.std().item() - 2.0) < 0.02
    assert abs(sample.mean().item()) < 0.02


def test_mixture_kl_monte_carlo_matches_exact_kl_when_components_coincide():
    component = DiagonalNormal(torch.tensor([[0.7, -0.4, 1.1]]), torch.tensor([[-0.5, 0.3, -1.2]]))
    n = 4000  # one group of 4000 identical components; L = |G| samples (supplement eq. 3)
    evidence = DiagonalNormal(component.mean.repeat(n, 1), component.logvar.repeat(n, 1))
    group_ids = torch.zeros(n, dtype=torch.long)
    samples = mixture_sample(evidence, group_ids, torch.Generator().manual_seed(0))
    estimate = mixture_kl_monte_carlo(samples, evidence, group_ids, 1)
    exact = kl_to_standard_normal(component)
    assert estimate.shape == (1,)
    assert abs(estimate.item() - exact.item()) < 0.05 * exact.item()


def test_mixture_samples_come_from_the_observations_own_group():
    evidence = DiagonalNormal(torch.tensor([[-100.0], [-100.0], [100.0], [100.0], [100.0]]), torch.full((5, 1), -10.0))
    group_ids = torch.tensor([0, 0, 1, 1, 1])
    samples = mixture_sample(evidence, group_ids, torch.Generator().manual_seed(0))
    assert (samples[:2] < 0).all() and (samples[2:] > 0).all()
