"""The focal frequency term (``--frequency-weight``)."""
import pytest
import torch
from safetensors.torch import load_file

from mlvae.training.frequency import focal_frequency_error, frequency_loss
from tests.test_train_cli import QUICK, train_in_process

CHECKER = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2 * 2.0 - 1.0  # the highest frequency, +-1


def test_an_error_of_one_frequency_counts_in_full_as_its_squared_error():
    real = torch.full((1, 1, 8, 8), 0.5)
    for error in (0.1 * CHECKER, torch.full((8, 8), 0.1)):  # the highest frequency, then the lowest (DC)
        fake = real + error
        assert focal_frequency_error(fake, real).item() == pytest.approx(error.square().sum().item(), rel=1e-5)
    assert focal_frequency_error(real, real).item() == 0.0


def test_the_worse_reconstructed_frequency_dominates():
    real = torch.full((1, 1, 8, 8), 0.5)
    fake = real + 0.2 * CHECKER + 0.05  # a large high-frequency error beside a small offset
    plain = (fake - real).square().sum().item()
    focal = focal_frequency_error(fake, real).item()
    high, low = (0.2 * CHECKER).square().sum().item(), torch.full((8, 8), 0.05).square().sum().item()
    assert focal == pytest.approx(high + low * (0.05 / 0.2), rel=1e-5) and focal < plain


def test_the_term_is_in_the_likelihoods_units_per_group():
    real, fake = torch.rand(4, 3, 8, 8), torch.rand(4, 3, 8, 8)
    per_image = focal_frequency_error(fake, real)
    assert frequency_loss(fake, real, 0.1, 2).item() == pytest.approx(per_image.sum().item() / (2 * 0.01 * 2), rel=1e-5)


@pytest.mark.parametrize("flags, expected", [
    (["--frequency-weight", "-1"], "--frequency-weight must be a number >= 0, got -1"),
    (["--dataset", "mnist", "--likelihood", "bernoulli", "--frequency-weight", "1", "--max-train-images", "200"],
     "--frequency-weight is in the units of --likelihood normal-fixed"),
])
def test_bad_frequency_flags_get_one_line_naming_the_flag(shared_data, tmp_path, flags, expected, caplog):
    assert train_in_process(*flags, "--out", str(tmp_path / "run")) == 2, caplog.text
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and expected in errors[0] and "\n" not in errors[0]


def test_the_term_changes_the_decoders_training(shared_data, tmp_path):
    for name, extra in (("plain", []), ("focal", ["--frequency-weight", "1"])):
        assert train_in_process(*QUICK, "--likelihood", "normal-fixed", "--max-steps", "3",
                                "--out", str(tmp_path / name), *extra) == 0
    plain, focal = (load_file(str(tmp_path / n / "last" / "model.safetensors")) for n in ("plain", "focal"))
    assert any(not torch.equal(plain[k], focal[k]) for k in plain if k.startswith("decoder."))
