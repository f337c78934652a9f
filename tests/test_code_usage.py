"""Code usage: KL per dimension to the prior, and the count of dimensions that carry information."""
import math

import pytest
import torch

from mlvae.evaluation.code_usage import code_usage
from mlvae.model.posterior import DiagonalNormal, kl_per_dimension, kl_to_standard_normal


def test_dimensions_at_the_prior_are_not_counted_and_the_nats_add_up():
    n = 1000
    g = torch.Generator().manual_seed(0)
    # 3 informative dimensions (means spread like the prior, variance 0.01), 5 at the prior
    mean = torch.cat([torch.randn(n, 3, generator=g), torch.zeros(n, 5)], 1)
    logvar = torch.cat([torch.full((n, 3), math.log(0.01)), torch.zeros(n, 5)], 1)
    usage = code_usage(DiagonalNormal(mean, logvar))
    assert (usage.informative, usage.dims) == (3, 8)
    # each informative dimension: 0.5 (E[mu^2] + 0.01 - 1 - log 0.01) ~ 0.5 (1 + 0.01 - 1 + 4.605) = 2.31 nats
    assert usage.nats_per_photo == pytest.approx(3 * 0.5 * (1.0 + 0.01 - 1 - math.log(0.01)), rel=0.05)
    assert "3 of 8 dimensions above 0.1 nats" in usage.text()


def test_a_dimension_just_below_the_threshold_is_not_informative():
    logvar = torch.zeros(4, 2)
    mean = torch.tensor([[0.4, 0.5]]).repeat(4, 1)  # KL 0.08 and 0.125 nats
    assert code_usage(DiagonalNormal(mean, logvar)).informative == 1


def test_the_summed_kl_is_the_sum_of_the_per_dimension_kl():
    q = DiagonalNormal(torch.randn(6, 4), torch.randn(6, 4))
    assert torch.allclose(kl_per_dimension(q).sum(-1), kl_to_standard_normal(q))
    assert (kl_per_dimension(q) >= 0).all()


def test_no_photos_is_refused():
    with pytest.raises(ValueError, match="at least one photo"):
        code_usage(DiagonalNormal(torch.zeros(0, 3), torch.zeros(0, 3)))
