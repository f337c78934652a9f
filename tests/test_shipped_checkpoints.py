"""Every shipped checkpoint loads by its short name, reconstructs its own test images better than the mean
image, and measures what its model card states; the Hub upload folder loads back through the same loader."""

import json

import pytest
import torch

from mlvae import latent, load_model
from mlvae.checkpoint.card import read_card
from mlvae.checkpoint.folder import SHIPPED_DIR, read_config, resolve_checkpoint
from mlvae.checkpoint.hub import export_for_hub
from mlvae.data.images import to_float
from mlvae.evaluation.card_metrics import card_metrics
from mlvae.evaluation.held_out import load_test_images
from mlvae.evaluation.identity import identity_trials
from mlvae.evaluation.swap_trials import FIGURES
from mlvae.training.face_network import FEATURES_RECORD, load_face_features

SHIPPED = {"mnist": 6, "faces": 25}  # name: MB at most, every file of the folder


@pytest.fixture(scope="module", params=sorted(SHIPPED))
def shipped(request, shared_data):
    name = request.param
    folder = resolve_checkpoint(name)
    if name == "faces":  # aligned once for the whole session (conftest)
        model, config, test = request.getfixturevalue("faces_test_set")
    else:
        model, config = load_model(name)
        test = load_test_images(folder, config.data)
    return name, model, config, folder, test


def test_shipped_checkpoint_is_small_enough_and_has_a_card(shipped):
    name, _, _, folder, _ = shipped
    assert folder == SHIPPED_DIR / name
    shipped_bytes = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())  # the face network included
    assert shipped_bytes <= SHIPPED[name] * 2**20
    card = (folder / "README.md").read_text()
    for figure in [line.split("(")[1].rstrip(")") for line in card.splitlines() if line.startswith("![")]:
        assert (folder / figure).exists(), figure
    assert "python -m mlvae.train" in card and "python -m mlvae.evaluate" in card


def test_shipped_checkpoint_reconstructs_better_than_the_mean_image(shipped):
    _, model, _, _, test = shipped
    x = to_float(test.images[:500])
    recon = latent.reconstruct(model, x, pooled=False, mode="mean")
    assert (recon - x).pow(2).mean() < 0.5 * (x.mean(0, keepdim=True) - x).pow(2).mean()


def test_measured_metrics_match_the_model_card(shipped):
    _, model, config, folder, test = shipped
    stated = read_card(folder).figures
    measured = card_metrics(model, config, test)
    assert measured["test_images"] == stated["test_images"]
    for key in ("test_elbo_per_image", "test_reconstruction_mse", "mean_image_mse"):
        assert measured[key] == pytest.approx(stated[key], rel=0.01), key


def test_hub_upload_folder_loads_back_identically(shipped, tmp_path):
    name, model, _, folder, test = shipped
    exported = export_for_hub(folder, tmp_path / "upload")
    assert sorted(p.name for p in exported.iterdir() if p.is_file()) == [
        "README.md", "config.json", "model.safetensors", "split.json"]
    again, _ = load_model(exported)
    x = to_float(test.images[:16])
    torch.testing.assert_close(latent.reconstruct(again, x), latent.reconstruct(model, x), rtol=0, atol=0)


def test_identity_judge_figures_match_the_faces_card(shipped):
    name, model, config, _, test = shipped
    stated = read_card(SHIPPED_DIR / name).figures.get("identity")
    if name != "faces":
        assert stated is None  # the identity judge is for faces
        return
    assert config.data.align_faces and set(stated) == {"faces-celeba200", "faces-lfw"}
    first = next(iter(stated.values()))
    measured = identity_trials(model, test, first["groups"], first["k"], first["trials"], seed=0)
    for source, figures in stated.items():
        for figure in FIGURES:
            assert measured[source].figures[figure] == pytest.approx(figures[figure], abs=1.0), (source, figure)


def test_the_shipped_face_network_learnt_training_people_only():
    """The faces model's feature term used a face network that never saw a validation or test person."""
    folder = SHIPPED_DIR / "faces"
    config = read_config(folder)
    assert config.train.feature_weight > 0 and config.train.feature_net == "checkpoints/faces/face-features"
    groups = json.loads((folder / "split.json").read_text())["groups"]
    learnt = set(json.loads((folder / "face-features" / FEATURES_RECORD).read_text())["people"])
    assert learnt == set(groups["train"])
    assert not learnt & (set(groups["val"]) | set(groups["test"])) and groups["val"] and groups["test"]
    net = load_face_features(folder / "face-features", set(groups["train"]))  # what training accepts
    assert net.classifier.out_features == len(learnt)
