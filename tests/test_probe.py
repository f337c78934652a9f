"""Probe (b): linear and MLP probes on posterior means, image-disjoint splits, on real MNIST labels."""
from __future__ import annotations

import math

import torch

from mlvae.evaluation.mean_probes import PROBES, ProbeConfig, probe_ks, probe_split, run_probes
from mlvae.evaluation.supplement_probe import FeatureSource, LatentClassifier
from mlvae.model.posterior import DiagonalNormal


def probe_accuracy(results: dict, features: str, k: int | None, probe: str) -> float:
    """The accuracy (0-1) of one probe on one feature kind at pooling level k (None: a per-image kind)."""
    for row in results["rows"]:
        if row["features"] == features and row["k"] == k:
            return row["accuracy"][probe]
    raise KeyError(f"no probe row for {features} at k = {k}")


def test_probe_split_is_balanced_and_image_disjoint_on_mnist_test_labels(mnist_splits):
    labels = mnist_splits.test.groups
    split = probe_split(labels, ProbeConfig())
    assert split.train.shape == (10, 300) and split.val.shape == (10, 100) and split.test.shape == (10, 400)
    every = torch.cat([split.train.flatten(), split.val.flatten(), split.test.flatten()])
    assert every.unique().numel() == every.numel() == 8000  # 4,000 to train on, 4,000 other images to test on
    for part in (split.train, split.val, split.test):
        assert (labels[part] == torch.arange(10).unsqueeze(1)).all()  # row c holds class c only
    few = torch.cat([labels[labels == c][:n] for c, n in ((0, 31), (1, 25), (2, 28), (3, 5))])  # class 3 is left out
    small = probe_split(few, ProbeConfig())  # the smallest class kept decides the sizes: half of it to test on
    assert small.test.shape[0] == 3 and (few[small.test] != 3).all()
    smallest = 25
    assert small.test.shape[1] == smallest // 2
    assert small.train.shape[1] + small.val.shape[1] == smallest - smallest // 2
    assert probe_ks(small, (1, 5, 10, 1000)) == [k for k in (1, 5, 10) if k <= smallest // 2]


def test_probes_read_the_class_from_informative_means_and_not_from_unrelated_ones():
    """Means centred on the class (noisy per image) vs means independent of it: the first are read better
    as k images are pooled, the second stay near chance for both probes."""
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(5).repeat_interleave(120)
    centres = torch.randn((5, 4), generator=gen) * 1.5
    informative = DiagonalNormal(centres[labels] + torch.randn((600, 4), generator=gen) * 2.0, torch.zeros(600, 4))
    unrelated = DiagonalNormal(torch.randn((600, 4), generator=gen), torch.zeros(600, 4))
    config = ProbeConfig(train_per_class=60, test_per_class=60, ks=(1, 10), batch_size=16, max_epochs=100, patience=10)
    results = run_probes(labels, {"C": FeatureSource(informative, True), "S": FeatureSource(unrelated, False)}, config)
    assert [(r["features"], r["k"]) for r in results["rows"]] == [("C", 1), ("C", 10), ("S", None)]
    assert results["fit_images"] + results["val_images"] == 300 and results["test_images"] == 300
    assert results["chance_accuracy"] == 0.2 and math.isclose(results["chance_bits"], math.log2(5))
    for probe in PROBES:
        assert probe_accuracy(results, "C", 10, probe) > 0.9
        assert probe_accuracy(results, "C", 10, probe) > probe_accuracy(results, "C", 1, probe) + 0.1
        assert probe_accuracy(results, "S", None, probe) < 0.35


def test_probe_networks_are_a_softmax_regression_and_a_two_layer_tanh_mlp():
    linear = LatentClassifier(10, 4, 256, PROBES["linear"])
    mlp = LatentClassifier(10, 4, 256, PROBES["MLP"])
    assert [type(m).__name__ for m in linear.net] == ["Linear"]
    assert [type(m).__name__ for m in mlp.net] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert mlp(torch.zeros(3, 10)).shape == linear(torch.zeros(3, 10)).shape == (3, 4)
    supplement = LatentClassifier(10, 4)  # supplement §3.1, unchanged: linear 256, tanh, linear
    assert [type(m).__name__ for m in supplement.net] == ["Linear", "Tanh", "Linear"]


def test_probes_run_on_the_shipped_faces_checkpoint(faces_test_set):
    """Unseen CelebA and LFW people (a few to 30 photos each): the split keeps the people with enough photos, balanced,
    and pooling photos of a person into the content makes the identity easier to read."""
    from mlvae import latent

    model, _, test = faces_test_set
    enc = latent.encode(model, test.images, 128)
    results = run_probes(test.groups, {"S": FeatureSource(enc.style, False), "C": FeatureSource(enc.content, True)},
                         ProbeConfig(max_epochs=100))
    sizes = torch.bincount(test.groups)
    assert results["num_classes"] == int((sizes >= ProbeConfig().min_class_images).sum())
    assert results["test_images"] % results["num_classes"] == 0  # balanced: chance is 1 / classes
    assert results["ks"] == [1, 5, 10]
    assert probe_accuracy(results, "C", 10, "MLP") > probe_accuracy(results, "C", 1, "MLP") + 0.2
