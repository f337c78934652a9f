"""``WeightAverage``: the exponential moving average of a model's weights and BatchNorm statistics."""
import pytest
import torch
from torch import nn

from mlvae.training.averaging import WeightAverage


def net() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))


def test_each_update_moves_floats_a_fraction_towards_the_live_weights_and_copies_counters():
    torch.manual_seed(0)
    live = net()
    average = WeightAverage(net(), live, decay=0.75)
    start = {k: v.clone() for k, v in average.model.state_dict().items()}
    assert all(torch.equal(start[k], v) for k, v in live.state_dict().items())  # starts at the live weights
    live.train()
    live(torch.randn(8, 3))  # BatchNorm statistics and its batch counter move
    with torch.no_grad():
        live[0].weight.add_(1.0)
    average.update(live)
    now = average.model.state_dict()
    for key, value in live.state_dict().items():
        if value.is_floating_point():
            assert torch.allclose(now[key], 0.75 * start[key] + 0.25 * value), key
        else:
            assert torch.equal(now[key], value), key
    assert not average.model.training and not any(p.requires_grad for p in average.model.parameters())


def test_the_saved_average_restores_and_a_state_without_one_says_so():
    live = net()
    average = WeightAverage(net(), live, decay=0.5)
    with torch.no_grad():
        live[0].bias.fill_(2.0)
    average.update(live)
    other = WeightAverage(net(), net(), decay=0.5)
    assert other.load({"opt.0.exp_avg": torch.zeros(1)}) is False
    assert other.load(average.tensors()) is True
    assert torch.equal(other.model[0].bias, average.model[0].bias)


@pytest.mark.parametrize("decay", [0.0, 1.0, 1.5])
def test_a_decay_outside_zero_one_is_refused(decay):
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(net(), net(), decay)
