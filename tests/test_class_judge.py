"""The class judge: a CNN trained on real MNIST training images reads real test digits and decoded swaps."""
from __future__ import annotations

import pytest
import torch

from mlvae import load_model
from mlvae.data.grouped import GroupedImages
from mlvae.errors import DataError
from mlvae.evaluation.class_judge import class_trials, judge_accuracy, judge_columns, train_judge


@pytest.fixture(scope="module")
def judge(mnist_splits):
    train = mnist_splits.train.subset(torch.arange(8000))
    return train_judge(train, epochs=3, seed=0)


def test_judge_trained_on_real_training_digits_reads_real_test_digits(judge, mnist_splits):
    test = mnist_splits.test.subset(torch.arange(2000))
    assert judge_accuracy(judge, test) > 93.0
    wrong = GroupedImages(test.images, test.groups, [str(d) for d in range(9)] + ["a person"])
    with pytest.raises(DataError, match="identity judge"):
        judge_columns(judge, wrong)


def test_swaps_of_the_shipped_digits_model_are_judged_as_their_content_class(judge, mnist_splits):
    model, _ = load_model("mnist")
    test = mnist_splits.test.subset(torch.arange(3000))
    result = class_trials(model, judge, test, k=5, trials=300, seed=0)
    f = result.figures
    assert result.groups == 10 and result.trials == 300
    assert f["input"] > 90 and f["recon"] > 80 and f["pooled"] > 80
    assert f["swap->C"] > 90 and f["swap->S"] < 10 and f["gen"] > 90  # the content, not the style, names the digit
    assert f["swap->C"] + f["swap->S"] <= 100.0


def test_trials_judge_among_the_classes_the_test_set_holds(judge, mnist_splits):
    """A test set of digits 3, 5 and 8 only: the judge's logits are narrowed to those three classes."""
    model, _ = load_model("mnist")
    test = mnist_splits.test
    keep = torch.isin(test.groups, torch.tensor([3, 5, 8])).nonzero().flatten()[:600]
    result = class_trials(model, judge, test.subset(keep), k=3, trials=100, seed=1)
    assert result.groups == 3 and result.figures["input"] > 90
