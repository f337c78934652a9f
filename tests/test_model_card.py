"""The model card is rendered from one template and its front matter (``mlvae.evaluation.model_card``): its texts
quote the measured figures, an earlier card's own sections are kept, and the shipped faces card, its texts and the
README quote one set of figures."""
import re
import shlex

import pytest

from mlvae import ModelConfig
from mlvae.checkpoint.card import parse_card, read_card
from mlvae.checkpoint.folder import SHIPPED_DIR
from mlvae.evaluation.goals import DEFAULT_GOALS
from mlvae.evaluation.model_card import CardFacts, card_front_matter, identity_row, quote_figures, render_card
from tests.conftest import REPO

METRICS = {"test_elbo": 35916.872159123, "test_elbo_per_image": 9011.218104, "test_reconstruction_mse": 0.010031,
           "mean_image_mse": 0.044145, "test_images": 1410, "test_groups": 183}
IDENTITY = {"faces-celeba200": {"groups": 20, "trials": 400, "k": 5, "input": 99.0, "recon": 38.75, "pooled": 46.25,
                                "swap->C": 37.75, "swap->S": 4.25, "pairwise": 86.5, "gen": 48.0}}
ROWS = [{"epoch": 1, "step": 160, "val_elbo": 34927.1, "val_elbo_per_image": 8900.0, "elapsed_s": 45.0},
        {"epoch": 2, "step": 320, "val_elbo": 34353.5, "val_elbo_per_image": 8832.9, "elapsed_s": 180.0}]
FACES_CARD = REPO / "scripts" / "faces_card"


def facts(**changes) -> CardFacts:
    base = dict(name="faces", model=ModelConfig(architecture="conv", latent_dim=50, style_dim=8, width=0.25,
                                                 likelihood="normal-fixed", sigma=0.1),
                data_text="Two face collections.", command="python -m mlvae.train --dataset folder",
                eval_command="python -m mlvae.evaluate faces", hardware="2 CPU cores", epochs=ROWS,
                classifier_table="| k | 1 |\n|---|---|\n| C | 40.0 |", weights="last", size_mb=4.8,
                init_from="experiments/faces-paper-exact", figures=["pooling"],
                limits="- recognises {figure:identity.faces-celeba200.recon}% of the reconstructions")
    return CardFacts(**{**base, **changes})


def test_a_card_is_rendered_from_its_front_matter_and_quotes_its_figures():
    metadata = card_front_matter("faces", ["celeba"], METRICS, IDENTITY, DEFAULT_GOALS,
                                 "recognises {figure:identity.faces-celeba200.recon}% (goal 75%)")
    assert metadata["mlvae"]["shortfall"] == "recognises 38.8% (goal 75%)"  # 38.75, one decimal
    assert metadata["license"] == "other" and metadata["mlvae"]["test_elbo"] == 35916.872159  # rounded to 6
    card = render_card(metadata, facts())
    parsed = parse_card(card)
    assert parsed.metadata == metadata and parsed.figures["identity"] == IDENTITY
    assert parsed.body.startswith("# ML-VAE — faces")
    assert "conv networks of supplement §2.1\n(width x0.25); normal-fixed likelihood (sigma 0.1)" in parsed.body
    assert "1410 test images in 183 groups: ELBO 9011.2 nats per" in parsed.body
    assert "2 epochs, 320 optimiser steps, 0.05 h on 2 CPU cores." in parsed.body
    assert "The weights after the last epoch (2) are the ones shipped: validation ELBO 34353.5" in parsed.body
    assert "- recognises 38.8% of the reconstructions" in parsed.body and "{figure:" not in card
    assert parsed.body.index("## Figures") < parsed.body.index("## Known limits")


def test_a_model_that_misses_its_goals_without_a_shortfall_line_gets_the_missed_goals():
    figures = card_front_matter("faces", ["celeba"], METRICS, IDENTITY, DEFAULT_GOALS)["mlvae"]
    assert figures["shortfall"].startswith("The identity judge finds recon 39% on ")
    assert "shortfall" not in card_front_matter("mnist", ["mnist"], METRICS)["mlvae"]


def test_rendering_again_keeps_the_earlier_cards_own_sections_and_replaces_the_templates():
    metadata = card_front_matter("faces", ["celeba"], METRICS, IDENTITY, DEFAULT_GOALS)
    earlier = render_card(metadata, facts(limits="- an old limit")) + "\n## Albums\n\n| album | ARI |\n| a | 0.9 |\n"
    again = render_card(metadata, facts(limits="- a new limit"), earlier)
    assert again.count("## Albums") == 1 and "| a | 0.9 |" in again
    assert "a new limit" in again and "an old limit" not in again and again.count("## Known limits") == 1


def test_a_figure_the_front_matter_lacks_is_named():
    with pytest.raises(KeyError, match=r"no mlvae\.identity\.faces-lfw\.recon"):
        quote_figures("{figure:identity.faces-lfw.recon}%", {"identity": IDENTITY})


def test_the_shipped_faces_card_its_texts_and_the_readme_quote_one_set_of_figures():
    card = read_card(SHIPPED_DIR / "faces")
    figures = card.figures
    limits = quote_figures((FACES_CARD / "limits.md").read_text(), figures)
    assert limits.strip() in card.body  # the card's texts hold no figure of their own: they quote these
    variants = quote_figures((FACES_CARD / "variants.md").read_text(), figures)
    assert "**shipped**" in variants and variants.strip() in card.body
    script = shlex.split((REPO / "scripts" / "ship_faces.sh").read_text().split("--shortfall", 1)[1])[0]
    assert quote_figures(script, figures) == card.shortfall
    readme = (REPO / "README.md").read_text()
    for source, label in (("faces-celeba200", "CelebA"), ("faces-lfw", "LFW")):
        row = identity_row(figures, source, label)
        assert row in readme.splitlines(), f"README.md's faces table should hold {row}, from the faces card"
    assert not re.search(r"\b38\.8\b", (REPO / "docs" / "results.md").read_text())  # docs quote the card
