"""Album grouping (mlvae.grouping) on synthetic content posteriors whose answer is known."""
from __future__ import annotations

import math

import pytest
import torch

from mlvae.grouping import (
    adjusted_rand_index,
    evidence_grouping,
    group_album,
    mean_grouping,
    membership,
    merge_gain,
    purity,
)
from mlvae.model.posterior import DiagonalNormal


def album(sizes: list[int], spread: float = 0.15, separation: float = 2.0, d: int = 16, seed: int = 0):
    """Content evidence of len(sizes) groups: one centre per group, each image a noisy copy with variance spread^2."""
    gen = torch.Generator().manual_seed(seed)
    centres = separation * torch.randn(len(sizes), d, generator=gen)
    truth = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    mean = centres[truth] + spread * torch.randn(truth.shape[0], d, generator=gen)
    order = torch.randperm(truth.shape[0], generator=gen)
    logvar = torch.full_like(mean, 2 * math.log(spread))
    return DiagonalNormal(mean[order], logvar[order]), truth[order].tolist()


def brute_log_evidence(evidence: DiagonalNormal) -> torch.Tensor:
    """log ∫ N(c; 0, I) prod_i N(c; mu_i, v_i) dc per dimension, by numerical integration on a grid: (d,)."""
    grid = torch.linspace(-12, 12, 200001, dtype=torch.float64)[:, None]
    log_prior = -0.5 * (math.log(2 * math.pi) + grid**2)
    mean, logvar = evidence.mean.double(), evidence.logvar.double()
    terms = -0.5 * (math.log(2 * math.pi) + logvar[:, None] + (grid - mean[:, None]) ** 2 / logvar[:, None].exp())
    log_integrand = log_prior + terms.sum(0)  # (grid, d)
    step = float(grid[1, 0] - grid[0, 0])
    return torch.logsumexp(log_integrand, 0) + math.log(step)


def test_merge_gain_is_the_log_ratio_of_the_product_of_normals_normalisers():
    a = DiagonalNormal(torch.tensor([[0.5, -1.0], [0.8, -0.7]]), torch.tensor([[-1.0, 0.0], [-0.5, -2.0]]))
    b = DiagonalNormal(torch.tensor([[0.1, 1.2]]), torch.tensor([[-1.5, -0.3]]))
    both = DiagonalNormal(torch.cat([a.mean, b.mean]), torch.cat([a.logvar, b.logvar]))
    expected = (brute_log_evidence(both) - brute_log_evidence(a) - brute_log_evidence(b)).sum()
    assert merge_gain(a, b) == pytest.approx(float(expected), abs=1e-4)


def test_merge_gain_favours_agreeing_evidence_and_refuses_disagreeing():
    sure = torch.full((1, 4), math.log(0.01))
    same = merge_gain(DiagonalNormal(torch.ones(1, 4), sure), DiagonalNormal(torch.ones(1, 4), sure))
    apart = merge_gain(DiagonalNormal(torch.ones(1, 4), sure), DiagonalNormal(-torch.ones(1, 4), sure))
    assert same > 0 > apart


def test_well_separated_groups_are_recovered_with_their_count():
    for seed, sizes in enumerate([[5, 7, 4, 9, 6], [20] * 10, [3, 12]]):
        evidence, truth = album(sizes, seed=seed)
        found = evidence_grouping(evidence)
        assert found.count == found.found == len(sizes)
        assert adjusted_rand_index(truth, found.labels) == pytest.approx(1.0)
        assert purity(truth, found.labels) == pytest.approx(1.0)


def test_the_reference_clustering_of_means_recovers_them_too():
    evidence, truth = album([5, 7, 4, 9, 6], seed=3)
    found = mean_grouping(evidence)
    assert found.count == 5 and adjusted_rand_index(truth, found.labels) == pytest.approx(1.0)


def test_one_group_stays_one_and_one_image_is_one_group():
    evidence, _ = album([12], seed=1)
    assert evidence_grouping(evidence).count == 1
    single = evidence_grouping(DiagonalNormal(evidence.mean[:1], evidence.logvar[:1]))
    assert single.labels == [0] and single.count == 1


def test_a_count_asked_for_is_given_and_found_still_says_what_the_evidence_found():
    evidence, truth = album([6, 6, 6, 6], seed=2)
    for count in (1, 2, 3, 6, 24):
        grouping = group_album(evidence, "evidence", count=count)
        assert grouping.count == count == len(set(grouping.labels)) and grouping.found == 4
    fewer = group_album(evidence, "evidence", count=2)  # whole groups are merged, never split
    assert purity(fewer.labels, truth) == pytest.approx(1.0)
    assert group_album(evidence, "means", count=3).count == 3
    with pytest.raises(ValueError, match="ask for 1 to 24"):
        group_album(evidence, count=25)


def test_labels_are_numbered_in_order_of_first_appearance():
    evidence, _ = album([4, 4, 4], seed=5)
    labels = evidence_grouping(evidence).labels
    firsts = [labels.index(g) for g in range(3)]
    assert firsts == sorted(firsts) and labels[0] == 0


def test_confidence_is_high_for_clear_members_and_low_for_an_image_between_two_groups():
    evidence, truth = album([6, 6], spread=0.2, seed=4)
    centres = torch.stack([evidence.mean[[i for i, t in enumerate(truth) if t == g]].mean(0) for g in (0, 1)])
    between = DiagonalNormal(centres.mean(0, keepdim=True), evidence.logvar[:1] + 2 * math.log(8))
    mixed = DiagonalNormal(torch.cat([evidence.mean, between.mean]), torch.cat([evidence.logvar, between.logvar]))
    grouping = evidence_grouping(mixed, count=2)
    assert min(grouping.confidence[:-1]) > 0.99
    assert grouping.confidence[-1] < 0.7
    # a photo forced into the wrong group is not trusted there
    wrong = [1 - label if index == 0 else label for index, label in enumerate(grouping.labels[:-1])]
    assert float(membership(evidence, wrong)[0]) < 0.01


def test_temperature_trades_splitting_for_merging():
    evidence, _ = album([8, 8, 8], spread=0.5, separation=0.8, seed=6)
    counts = [evidence_grouping(evidence, temperature=t).count for t in (0.05, 1.0, 50.0)]
    assert counts[0] > counts[1] >= counts[2] and counts[2] == 1
    with pytest.raises(ValueError, match="temperature"):
        evidence_grouping(evidence, temperature=0)


def test_adjusted_rand_index_and_purity_on_known_cases():
    assert adjusted_rand_index([0, 0, 1, 1], [5, 5, 2, 2]) == pytest.approx(1.0)
    assert adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)
    assert adjusted_rand_index([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]) == pytest.approx(0.24242424, abs=1e-6)
    assert purity([0, 0, 1, 1], [0, 0, 0, 0]) == pytest.approx(0.5)
    assert purity([0, 1, 2], [0, 1, 2]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="method"):
        group_album(album([2])[0], "kmeans")
