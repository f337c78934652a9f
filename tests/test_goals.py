"""The identity judge's goals and folder names are data: a card's front matter states them, else the defaults."""
import pytest

from mlvae.checkpoint.card import parse_card
from mlvae.errors import CheckpointError
from mlvae.evaluation.goals import DEFAULT_GOALS, Goal, goals_from_card, goals_front_matter, parse_goal
from mlvae.evaluation.identity import identity_markdown, missed_goals
from mlvae.evaluation.swap_trials import FIGURES, TrialResult

MEETS_DEFAULTS = {"input": 99.0, "recon": 80.0, "pooled": 80.0, "swap->C": 65.0, "swap->S": 5.0, "pairwise": 97.0,
                  "gen": 65.0}


def result(**figures: float) -> TrialResult:
    """A trial result that meets the default goals but for the figures given (``swap_S`` for ``swap->S``)."""
    values = {f: figures.get(f.replace("->", "_"), MEETS_DEFAULTS[f]) for f in FIGURES}
    return TrialResult(values, groups=20, trials=400, k=5)


def test_goals_read_like_the_card_writes_them():
    assert parse_goal(">= 40") == parse_goal("≥ 40") == Goal(True, 40)
    assert parse_goal("<= 10") == Goal(False, 10) and str(Goal(False, 10)) == "≤ 10"
    with pytest.raises(ValueError, match="'>= 40'"):
        parse_goal("at least 40")
    assert goals_from_card(goals_front_matter(DEFAULT_GOALS)) == DEFAULT_GOALS
    with pytest.raises(CheckpointError, match="identity_goals: a goal reads like"):
        goals_from_card({"identity_goals": {"recon": "40%"}})


def test_a_card_without_goals_gets_the_defaults_and_one_with_goals_its_own():
    assert goals_from_card({}) == DEFAULT_GOALS
    card = parse_card("---\nmlvae:\n  identity_goals: {recon: '>= 80', swap->S: '<= 5'}\n"
                      "  source_names: {people: Mine}\n---\n# Card\n")
    goals = goals_from_card(card.figures)
    results = {"people": result(recon=78.0, swap_S=6.0)}
    assert missed_goals(results, goals) == ["recon 78% on Mine (goal ≥ 80)", "swap→S 6% on Mine (goal ≤ 5)"]
    assert missed_goals(results) == []  # the defaults: recon ≥ 75, swap→S ≤ 10
    table = identity_markdown(results, goals)
    assert "| Mine |" in table and "≥ 80" in table and "≤ 5" in table


def test_the_default_goals_name_the_shared_data_folders():
    results = {"faces-celeba200": result(recon=74.0), "faces-lfw": result()}
    assert missed_goals(results) == ["recon 74% on CelebA (goal ≥ 75)"]
    assert "| LFW |" in identity_markdown(results)
