"""The adversarial patch term (``--adversarial-weight``): its losses, its adaptive weight, and training with it."""
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from mlvae.training.adversarial import (
    DISCRIMINATOR_NAME,
    AdversarialTerm,
    PatchDiscriminator,
    discriminator_hinge_loss,
)
from mlvae.training.decoder_term import TermStep, adaptive_weight
from tests.test_train_cli import QUICK, metrics, train_in_process


def test_the_discriminator_judges_overlapping_patches_of_a_64px_face():
    logits = PatchDiscriminator(3)(torch.rand(2, 3, 64, 64))
    assert logits.shape == (2, 1, 6, 6)


def test_hinge_loss_is_zero_only_when_both_sides_are_past_the_margin():
    sure = discriminator_hinge_loss(torch.full((4,), 2.0), torch.full((4,), -2.0))
    unsure = discriminator_hinge_loss(torch.zeros(4), torch.zeros(4))
    fooled = discriminator_hinge_loss(torch.full((4,), -1.0), torch.full((4,), 1.0))
    assert sure.item() == 0.0 and unsure.item() == pytest.approx(2.0) and fooled.item() == pytest.approx(4.0)


def test_adaptive_weight_is_the_ratio_of_the_two_gradients_at_the_last_layer():
    layer = nn.Parameter(torch.ones(3, 4))
    other = nn.Parameter(torch.ones(5))
    reconstruction = 3.0 * layer.sum() + 100.0 * other.sum()  # only the gradient at ``layer`` counts
    generator = 0.5 * (layer**2).sum()  # gradient: layer itself, norm sqrt(12)
    lam = adaptive_weight(reconstruction, generator, layer)
    assert lam.item() == pytest.approx(3.0 * 12**0.5 / (12**0.5 + 1e-4), rel=1e-6)
    assert not lam.requires_grad


def test_the_decoder_term_waits_for_its_start_and_never_moves_the_discriminator():
    torch.manual_seed(0)
    term = AdversarialTerm(weight=0.5, start_step=10, channels=3, lr=1e-3, device=torch.device("cpu"))
    last = nn.Parameter(torch.randn(3, 8, 3, 3))
    fake = torch.sigmoid(torch.nn.functional.conv2d(torch.randn(2, 8, 64, 64), last, padding=1))
    loss = (fake - 0.5).square().sum()
    terms = SimpleNamespace(reconstruction=fake)

    def step(number: int) -> TermStep:
        return TermStep(torch.rand(2, 3, 64, 64), terms, number, elbo_loss=loss, last_layer=last)

    assert term.loss(step(9)) is None  # before --adversarial-start: the ELBO's loss alone
    added = term.loss(step(10))
    assert added.item() != 0.0
    (loss + added).backward()
    assert last.grad is not None
    assert all(p.grad is None and p.requires_grad for p in term.discriminator.parameters())
    before = [p.detach().clone() for p in term.discriminator.parameters()]
    term.after_step(step(10))
    assert any(not torch.equal(a, p) for a, p in zip(before, term.discriminator.parameters(), strict=True))
    figures = term.summary()
    assert set(figures) >= {"adv_discriminator", "adv_generator", "adv_adaptive_weight"}
    assert term.summary() == {}  # means since the last call


def test_training_with_the_term_changes_the_decoder_keeps_the_elbo_reported_and_resumes_exactly(shared_data, tmp_path):
    plain, straight, resumed = tmp_path / "plain", tmp_path / "straight", tmp_path / "resumed"
    flags = [*QUICK, "--epochs", "1", "--max-train-images", "1500"]
    adversarial = [*flags, "--adversarial-weight", "0.5", "--adversarial-start", "5"]
    assert train_in_process(*flags, "--out", str(plain)) == 0
    assert train_in_process(*adversarial, "--out", str(straight)) == 0
    assert train_in_process(*adversarial, "--max-steps", "10", "--out", str(resumed)) == 0
    assert train_in_process("--out", str(resumed), "--resume") == 0  # on to the end of the epoch
    assert metrics(resumed)[-1]["step"] == metrics(straight)[-1]["step"] > 10
    last = {name: load_file(str(run / "last" / "model.safetensors")) for name, run in
            (("plain", plain), ("straight", straight), ("resumed", resumed))}
    assert all(torch.equal(last["straight"][k], last["resumed"][k]) for k in last["straight"])
    assert any(not torch.equal(last["plain"][k], last["straight"][k]) for k in last["plain"]
               if k.startswith("decoder."))
    d_straight, d_resumed = (load_file(str(r / "last" / DISCRIMINATOR_NAME)) for r in (straight, resumed))
    assert d_straight.keys() == d_resumed.keys() and all(torch.equal(d_straight[k], d_resumed[k]) for k in d_straight)
    assert not (straight / "best" / DISCRIMINATOR_NAME).exists()  # a shipped model needs no discriminator
    row = metrics(straight)[-1]
    assert row["adv_adaptive_weight"] > 0 and "val_elbo" in row and "val_log_likelihood_per_image" in row


@pytest.mark.parametrize("flags, expected", [
    (["--adversarial-weight", "-0.1"], "--adversarial-weight must be a number >= 0, got -0.1"),
    (["--adversarial-start", "-1"], "--adversarial-start must be at least 0, got -1"),
    (["--dataset", "mnist", "--model", "svi", "--adversarial-weight", "0.5"],
     "--adversarial-weight does not apply to --model svi"),
])
def test_bad_adversarial_flags_get_one_line_naming_the_flag(shared_data, tmp_path, flags, expected, caplog):
    assert train_in_process(*flags, "--out", str(tmp_path / "run")) == 2, caplog.text
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and expected in errors[0] and "\n" not in errors[0]
