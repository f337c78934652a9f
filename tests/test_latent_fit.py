"""Latents fitted to an image (``mlvae.evaluation.latent_fit``), and the identity judge's decoder-range table on the
shipped faces model and real test photos."""
import json

import pytest
import torch

from mlvae import MLVAE, ModelConfig
from mlvae.evaluation import run
from mlvae.evaluation.config import EvaluationConfig
from mlvae.evaluation.identity import FIT_ROWS, linear_row
from mlvae.evaluation.latent_fit import fit_latents, fit_objective
from mlvae.evaluation.run import FILES, evaluate


def small_model() -> MLVAE:
    torch.manual_seed(0)
    return MLVAE(ModelConfig(architecture="conv", width=0.125, latent_dim=6,
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


def test_negative_fit_steps_and_bad_linear_sizes_are_refused_with_the_flag_name():
    with pytest.raises(ValueError, match="--identity-fit-steps must be 0 or more"):
        EvaluationConfig("faces", identity_fit_steps=-1)
    with pytest.raises(ValueError, match="give one of them"):
        EvaluationConfig("faces", identity_only=True, album_only=True)
    with pytest.raises(ValueError, match="--identity-linear-sizes must be comma-separated integers"):
        EvaluationConfig("faces", identity_linear_sizes="128,big")


def test_identity_fit_steps_on_the_shipped_faces_model_and_real_test_photos(faces_test_set, tmp_path, monkeypatch):
    monkeypatch.setattr(run, "load_test_images", lambda *_: faces_test_set[2])  # aligned once per session (conftest)
    settings = EvaluationConfig("faces", out=str(tmp_path / "eval"), identity=True, identity_people=6,
                                identity_trials=10, identity_fit_steps=40, identity_linear_photos=300,
                                identity_linear_sizes="128", decoded_only=True, identity_only=True)
    out = evaluate(settings)  # --identity-only: the figures and the identity judge, no probes or class judge
    assert (out / FILES["swap_strategy2"]).stat().st_size > 0 and (out / FILES["identity_json"]).exists()
    assert not (out / FILES["classifier_json"]).exists() and not (out / FILES["probe_json"]).exists()
    record = json.loads((out / FILES["identity_fit_json"]).read_text())
    assert record["steps"] == 40 and record["per_person"] == 5 and record["code_size"] == 50 + 8
    for source in ("faces-celeba200", "faces-lfw"):
        rows = record[source]
        assert sorted(rows) == sorted(["input", "encoder", linear_row(58), linear_row(128), *FIT_ROWS])
        # on average a larger linear code reconstructs the same photos better
        assert rows[linear_row(128)]["mse"] < rows[linear_row(58)]["mse"]
        assert rows["input"]["judged_right"] >= 80 and rows["input"]["mse"] == 0  # the judge knows the real photos
        # fitting the pixels beats the encoder's guess on pixel error
        assert 0 < rows["fitted (likelihood)"]["mse"] < rows["encoder"]["mse"]
        assert all(0 <= r["judged_right"] <= 100 for r in rows.values())
    report = (out / FILES["report"]).read_text()
    assert "What the decoder can render" in report and "40 Adam steps" in report
    assert "linear code (PCA, d = 58)" in report and "(the model's code: content + style = 58)" in report
    assert f"({FILES['identity_fit_json']})" in report
    # the shipped content uses all 50 of its dimensions, the 8-dimensional style some of its own
    usage = json.loads((out / FILES["identity_code_json"]).read_text())
    assert usage["content"]["dims"] == 50 and usage["content"]["informative"] == 50
    assert usage["style"]["dims"] == 8 and 0 < usage["style"]["informative"] <= 8
    assert usage["content"]["nats_per_photo"] > 50 and "content " in report and "dimensions above 0.1 nats" in report
