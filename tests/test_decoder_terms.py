"""A term of the decoder's loss is one class (``mlvae.training.decoder_term``) listed once: one defined only here
trains with the run, reports its figures, is saved in ``last/`` and restored on resume."""
import json

import torch
from safetensors.torch import load_file

from mlvae import ModelConfig
from mlvae.config import RunConfig, TrainConfig
from mlvae.training import trainer as trainer_module
from mlvae.training.decoder_term import DecoderTerm, TermSetup, TermStep
from mlvae.training.trainer import DECODER_TERMS, Trainer


class SmoothnessTerm(DecoderTerm):
    """Total variation of the reconstructions per group, weighted relative to the ELBO; it counts its steps."""

    def __init__(self) -> None:
        self.steps, self.variation = 0, 0.0

    @classmethod
    def build(cls, setup: TermSetup) -> "SmoothnessTerm":
        return cls()

    def loss(self, step: TermStep) -> torch.Tensor:
        r = step.terms.reconstruction.view(-1, 1, 28, 28)
        variation = ((r[..., 1:, :] - r[..., :-1, :]).abs().sum()
                     + (r[..., :, 1:] - r[..., :, :-1]).abs().sum()) / step.terms.num_groups
        self.variation = variation.item()
        return 10.0 * step.relative(variation) * variation

    def after_step(self, step: TermStep) -> None:
        self.steps += 1

    def summary(self) -> dict[str, float]:
        return {"variation": self.variation}

    def save(self, folder) -> dict:
        return {"smoothness_steps": self.steps}

    def restore(self, folder, record: dict) -> None:
        self.steps = record.get("smoothness_steps", 0)


def run(mnist_splits, out) -> Trainer:
    torch.manual_seed(0)
    config = RunConfig(model=ModelConfig(hidden_dim=32),
                       train=TrainConfig(epochs=1, max_train_images=500, max_val_images=100, device="cpu"))
    trainer = Trainer(config, mnist_splits, out)
    trainer.fit()
    return trainer


def test_a_term_defined_here_trains_reports_saves_and_resumes(mnist_splits, tmp_path, monkeypatch):
    plain = run(mnist_splits, tmp_path / "plain")
    monkeypatch.setattr(trainer_module, "DECODER_TERMS", (*DECODER_TERMS, SmoothnessTerm))
    smoothed = run(mnist_splits, tmp_path / "smoothed")
    term, = smoothed.terms  # the run's flags leave the shipped terms off
    steps = smoothed.progress.step
    assert isinstance(term, SmoothnessTerm) and term.steps == steps > 0
    weights = [load_file(t.out / "last" / "model.safetensors") for t in (plain, smoothed)]
    assert any(not torch.equal(weights[0][k], weights[1][k]) for k in weights[0])  # the term moved the decoder
    row = json.loads((smoothed.out / "metrics.jsonl").read_text().splitlines()[-1])
    assert row["variation"] > 0 and "variation" not in json.loads((plain.out / "metrics.jsonl").read_text())
    assert json.loads((smoothed.out / "last" / "trainer_state.json").read_text())["smoothness_steps"] == steps
    again = Trainer(smoothed.config, mnist_splits, smoothed.out)
    assert again.terms[0].steps == 0 and again.resume() and again.terms[0].steps == steps
