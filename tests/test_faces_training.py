"""The faces training levers: a fixed-sigma Normal, a style smaller than the content, the style-KL weight and its
schedule, flips, and training on several aligned face folders at once (real CelebA and LFW photos)."""
from __future__ import annotations

import json
import math

import pytest
import torch

from mlvae import MLVAE, ModelConfig, group_elbo, latent, load_model
from mlvae.model.objective import annealed_weight, style_weighted_loss
from tests.conftest import run_cli

CONV = dict(architecture="conv", latent_dim=6, width=0.125)


def test_fixed_sigma_decoder_scores_a_normal_of_that_sigma():
    model = MLVAE(ModelConfig(likelihood="normal-fixed", sigma=0.2, **CONV))
    x = torch.rand(4, 3, 64, 64)
    terms = group_elbo(model, x, torch.tensor([0, 0, 1, 1]), 2)
    mean, logvar = model.decode_params(terms.content_sample, terms.style_sample).params
    torch.testing.assert_close(logvar, torch.full_like(mean, math.log(0.04)))
    expected = torch.distributions.Normal(mean, 0.2).log_prob(x).flatten(1).sum(-1)
    torch.testing.assert_close(terms.log_likelihood, expected)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        ModelConfig(likelihood="normal-fixed", sigma=0.0)


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
def test_style_can_be_smaller_than_the_content(architecture):
    config = CONV if architecture == "conv" else dict(architecture="mlp", latent_dim=6, hidden_dim=32)
    model = MLVAE(ModelConfig(style_dim=2, **config))
    x = torch.rand(5, *((3, 64, 64) if architecture == "conv" else (1, 28, 28)))
    enc = model.encode(x)
    assert enc.style.mean.shape == (5, 2) and enc.content.mean.shape == (5, 6)
    terms = group_elbo(model, x, torch.tensor([0, 0, 0, 1, 1]), 2)
    assert terms.style_sample.shape == (5, 2) and terms.kl_style.shape == (5,)
    terms.loss.backward()
    grid = latent.swap(model.eval(), x[:2], x[2:])
    assert grid.shape[:2] == (2, 3)
    assert latent.generate(model, x[:3], 4).shape == (4, *x.shape[1:])


def test_style_kl_weight_adds_only_to_the_style_term_and_anneals_to_the_elbo():
    torch.manual_seed(0)
    model = MLVAE(ModelConfig(latent_dim=4, hidden_dim=32))
    x = torch.rand(6, 1, 28, 28)
    terms = group_elbo(model, x, torch.tensor([0, 0, 1, 1, 1, 2]), 3)
    assert style_weighted_loss(terms, 1.0) is terms.loss  # weight 1: the ELBO's loss itself
    weighted = style_weighted_loss(terms, 4.0)
    torch.testing.assert_close(weighted, terms.loss + 3.0 * terms.kl_style.sum() / 3)
    assert [annealed_weight(10.0, 100, s) for s in (0, 50, 100, 500)] == [10.0, 5.5, 1.0, 1.0]
    assert annealed_weight(3.0, 0, 10_000) == 3.0


def test_training_on_celeba_and_lfw_together_aligns_splits_per_source_and_records_it(shared_data, tmp_path):
    # two small folders of real photos: 8 CelebA people and 8 LFW people with at least 4 photos each
    folders = []
    for source in ("faces-celeba200", "faces-lfw"):
        target = tmp_path / source
        people = [p for p in sorted((shared_data / source).iterdir()) if p.is_dir() and len(list(p.glob("*.jpg"))) >= 4]
        for person in people[:8]:
            (target / person.name).mkdir(parents=True)
            for photo in sorted(person.glob("*.jpg"))[:4]:
                (target / person.name / photo.name).write_bytes(photo.read_bytes())
        folders += ["--data-dir", str(target)]
    run = tmp_path / "run"
    env_cache = {"MLVAE_CACHE_DIR": str(tmp_path / "cache")}
    done = run_cli(
        "mlvae.train", "--dataset", "folder", *folders, "--align-faces", "--width", "0.125", "--latent-dim", "8",
        "--style-dim", "2", "--likelihood", "normal-fixed", "--sigma", "0.2", "--flip", "--style-kl-weight", "5",
        "--style-kl-anneal-steps", "4", "--min-group-size", "2", "--max-group-size", "3", "--groups-per-batch", "4",
        "--val-fraction", "0.25", "--test-fraction", "0.25", "--epochs", "2", "--out", str(run), env=env_cache,
    )
    assert done.returncode == 0, done.stderr
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["align_faces"] is True and len(config["data"]["data_dir"]) == 2
    assert config["model"]["style_dim"] == 2 and config["train"]["style_kl_weight"] == 5.0
    split = json.loads((run / "split.json").read_text())["groups"]
    for part in ("train", "val", "test"):  # each source is split by the same fractions
        assert {name.split("/")[0] for name in split[part]} == {"faces-celeba200", "faces-lfw"}
    assert not set(split["train"]) & set(split["test"])
    assert len(list((tmp_path / "cache").rglob("*.png"))) >= 60  # aligned crops cached on disk
    model, loaded = load_model(run)
    assert loaded.data.align_faces and model.style_dim == 2
    # a wider run started from this one: its weights lead the wide layers (widen_into's own test shows that the
    # wide network then computes what the narrow one did); one step at a rate too small to move a weight
    done = run_cli(
        "mlvae.train", "--dataset", "folder", *folders, "--align-faces", "--width", "0.25", "--latent-dim", "8",
        "--style-dim", "2", "--likelihood", "normal-fixed", "--sigma", "0.1", "--min-group-size", "2",
        "--max-group-size", "3", "--groups-per-batch", "4", "--val-fraction", "0.25", "--test-fraction", "0.25",
        "--epochs", "1", "--max-steps", "1", "--lr", "1e-30", "--init-from", str(run), "--out", str(tmp_path / "wide"),
        env=env_cache,
    )
    assert done.returncode == 0, done.stderr
    assert "widened from --width 0.125 to 0.25" in done.stderr
    narrow, wide = load_model(run)[0].state_dict(), load_model(tmp_path / "wide" / "last")[0].state_dict()
    first_conv = "encoder.convs.0.weight"
    assert wide[first_conv].shape[0] == 2 * narrow[first_conv].shape[0]
    for key, old in narrow.items():
        if key.endswith(".weight") and old.dim() > 1:
            torch.testing.assert_close(wide[key][tuple(slice(0, n) for n in old.shape)], old)
