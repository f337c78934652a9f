"""Album mode's evaluation (mlvae.evaluation.album, ``python -m mlvae.evaluate --album``)."""
from __future__ import annotations

import json
import math

import pytest
import torch

from mlvae.evaluation.album import AlbumSpec, album_markdown, album_scores, calibrate, draw_albums
from mlvae.evaluation.config import EvaluationConfig
from mlvae.evaluation.run import FILES, evaluate
from mlvae.grouping import AlbumSettings
from mlvae.model.posterior import DiagonalNormal


def test_albums_draw_distinct_groups_with_the_asked_sizes_and_repeat_with_the_seed():
    groups = torch.arange(12).repeat_interleave(torch.tensor([3, 8, 8, 8, 8, 8, 12, 5, 4, 9, 2, 7]))
    spec = AlbumSpec(5, 4, 10)
    albums = draw_albums(groups, spec, 20, seed=0)
    for album in albums:
        names, sizes = torch.unique(groups[album], return_counts=True)
        assert names.numel() == 5 and album.unique().numel() == album.numel()
        assert not set(names.tolist()) & {0, 10}  # groups with fewer than 4 images are never drawn
        assert all(4 <= s <= 10 for s in sizes.tolist())
    assert all(torch.equal(a, b) for a, b in zip(albums, draw_albums(groups, spec, 20, seed=0), strict=True))
    with pytest.raises(ValueError, match="need 20 groups"):
        draw_albums(groups, AlbumSpec(20, 4, 10), 1, seed=0)


def separated_features(groups: torch.Tensor, spread: float) -> DiagonalNormal:
    gen = torch.Generator().manual_seed(0)
    centres = 3 * torch.randn(int(groups.max()) + 1, 8, generator=gen)
    mean = centres[groups] + spread * torch.randn(groups.shape[0], 8, generator=gen)
    return DiagonalNormal(mean, torch.full_like(mean, 2 * math.log(spread)))


def test_scores_of_separable_features_are_perfect_and_the_calibration_keeps_a_temperature_that_works():
    groups = torch.arange(10).repeat_interleave(10)
    features = separated_features(groups, 0.2)
    albums = draw_albums(groups, AlbumSpec(4, 3, 6), 10, seed=1)
    for method in ("evidence", "means"):
        scores = album_scores(features, groups, albums, method)
        assert scores["ari"] == pytest.approx(1.0) and scores["purity"] == pytest.approx(1.0)
        assert scores["exact_count"] == 1.0 and scores["groups_found"] == 4
    # the posteriors claim far less spread than the images have: t = 1 splits groups, the calibration merges them
    overconfident = DiagonalNormal(separated_features(groups, 0.6).mean, torch.full((100, 8), 2 * math.log(0.05)))
    best, tried = calibrate(overconfident, groups, albums, grid=(1.0, 100.0))
    assert best == 100.0 and tried["100.0"] > tried["1.0"]


@pytest.mark.data
def test_album_only_evaluation_writes_the_table_and_the_settings_chosen_on_training_digits(tiny_mnist_runs, tmp_path):
    out = evaluate(EvaluationConfig(checkpoint=str(tiny_mnist_runs["mlvae"]), baseline=[str(tiny_mnist_runs["vae"])],
                                    album_only=True, album_trials=3, album_calibration=3, out=str(tmp_path)))
    results = json.loads((out / FILES["album_json"]).read_text())
    assert [row["name"] for row in results["rows"]] == ["ML-VAE content", "raw pixels (PCA 50)", "VAE latent"]
    for row in results["rows"]:
        for method in ("evidence", "means"):
            scores = row["methods"][method]["10 groups x 20 images"]
            assert -1 <= scores["ari"] <= 1 and 0.1 <= scores["purity"] <= 1 and 1 <= scores["groups_found"] <= 200
    settings = AlbumSettings.read(out)
    assert settings.temperature == results["rows"][0]["temperature"]
    assert settings.calibration_albums == 3
    table = (out / FILES["album_table"]).read_text()
    assert table == album_markdown(results) and table.count("\n") == 2 + 3 * 2
    report = (out / FILES["report"]).read_text()
    assert "## Album mode" in report and "Probe (a)" not in report


def test_album_settings_default_and_refuse_nonsense(tmp_path):
    assert AlbumSettings.read(tmp_path) == AlbumSettings()
    AlbumSettings("means", 30.0, 5, "x").write(tmp_path)
    assert AlbumSettings.read(tmp_path) == AlbumSettings("means", 30.0, 5, "x")
    with pytest.raises(ValueError, match="positive temperature"):
        AlbumSettings("evidence", -1.0)
