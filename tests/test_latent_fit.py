"""Latents fitted to an image (``mlvae.evaluation.latent_fit``), and the identity judge's decoder-range table on the
shipped faces model and real test photos."""
import pytest
import torch

from mlvae import MLVAE, ModelConfig, load_model
from mlvae.checkpoint.folder import resolve_checkpoint
from mlvae.evaluation.config import EvaluationConfig
from mlvae.evaluation.identity import FIT_ROWS, decoder_range, decoder_range_markdown
from mlvae.evaluation.latent_fit import fit_latents, fit_objective
from mlvae.evaluation.test_images import load_test_images


def small_model() -> MLVAE:
    torch.manual_seed(0)
    return MLVAE(ModelConfig(architecture="conv", image_channels=3, image_size=64, width=0.125, latent_dim=6,
                             style_dim=2, likelihood="normal-fixed", sigma=0.1))


def test_fitting_raises_the_objective_it_fits_and_leaves_the_model_as_it_was():
    model = small_model()
    model.train()
    x = torch.rand(4, 3, 64, 64)
    c0, s0 = torch.randn(4, 6), torch.randn(4, 2)
    start = c0.clone()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for prior in (True, False):
        model.train()
        c, s = fit_latents(model, x, c0, s0, steps=30, prior=prior)
        assert model.training and all(p.requires_grad for p in model.parameters())  # mode and flags restored
        model.eval()
        with torch.no_grad():
            gained = fit_objective(model, x, c, s, prior) - fit_objective(model, x, c0, s0, prior)
        assert (gained > 0).all(), gained
        assert not c.requires_grad and torch.equal(c0, start)  # the start is not moved in place
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # BatchNorm statistics too


def test_the_prior_keeps_fitted_latents_nearer_the_origin_than_the_likelihood_alone():
    model = small_model().eval()
    x = torch.rand(4, 3, 64, 64)
    start = torch.randn(4, 6), torch.randn(4, 2)
    map_c, map_s = fit_latents(model, x, *start, steps=100, prior=True)
    ml_c, ml_s = fit_latents(model, x, *start, steps=100, prior=False)
    norm = lambda c, s: (c.square().sum(1) + s.square().sum(1)).sqrt()  # noqa: E731
    assert (norm(map_c, map_s) < norm(ml_c, ml_s)).all()
    with torch.no_grad():  # and the likelihood alone reaches the higher likelihood
        assert (fit_objective(model, x, ml_c, ml_s, False) > fit_objective(model, x, map_c, map_s, False)).all()


def test_negative_fit_steps_are_refused_with_the_flag_name():
    with pytest.raises(ValueError, match="--identity-fit-steps must be 0 or more"):
        EvaluationConfig("faces", identity_fit_steps=-1)


def test_decoder_range_on_the_shipped_faces_model_and_real_test_photos(shared_data):
    model, config = load_model("faces")
    test = load_test_images(resolve_checkpoint("faces"), config.data,
                            [shared_data / "faces-celeba200", shared_data / "faces-lfw"])
    ranges = decoder_range(model, test, people=6, min_photos=6, per_person=2, steps=40)
    assert set(ranges) == {"faces-celeba200", "faces-lfw"}
    for rows in ranges.values():
        assert list(rows) == list(FIT_ROWS)
        assert rows["input"] == (pytest.approx(100.0, abs=100 / 12 + 1e-6), 0.0)  # the judge knows the real photos
        encoder, fitted = rows["encoder"][1], rows["fitted (likelihood)"][1]
        assert 0 < fitted < encoder  # fitting the pixels beats the encoder's guess on pixel error
        assert all(0 <= hits <= 100 for hits, _ in rows.values())
    table = decoder_range_markdown(ranges, 40, 2)
    assert table.count("\n| ") == 3 and "40 Adam steps" in table  # header, CelebA and LFW rows
