"""The identity judge's goals and the names its report gives each data folder: data, read from a model card.

A card may state them in its front matter, under ``mlvae:``::

    identity_goals: {recon: ">= 40", pooled: ">= 40", swap->C: ">= 30", swap->S: "<= 10", pairwise: ">= 80",
                     gen: ">= 25"}
    source_names: {faces-celeba200: CelebA, faces-lfw: LFW}

A card that states none gets ``DEFAULT_GOALS``: the faces model's goals ("Faces a person recognises"), % of trials among
20 unseen people, content pooled from k = 5 photos.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mlvae.errors import CheckpointError

GOAL = re.compile(r"^\s*(>=|<=|≥|≤)\s*(\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Goal:
    """A figure's goal: at least (or at most) ``value`` % of trials."""

    at_least: bool
    value: float

    def met(self, got: float) -> bool:
        """Whether a measured figure meets the goal."""
        return got >= self.value if self.at_least else got <= self.value

    def __str__(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.value:g}"


@dataclass(frozen=True)
class IdentityGoals:
    """Per judged figure its goal, and per data folder the name a report gives it (default: the folder's name)."""

    figures: dict[str, Goal]
    source_names: dict[str, str] = field(default_factory=dict)

    def name(self, source: str) -> str:
        """The display name of a data folder: ``faces-lfw`` -> ``LFW``."""
        return self.source_names.get(source, source)

    def text(self, figure: str) -> str:
        """``≥ 40`` / ``≤ 10`` for a figure with a goal, ``ceiling`` for the others (the inputs)."""
        return str(self.figures[figure]) if figure in self.figures else "ceiling"


DEFAULT_GOALS = IdentityGoals(
    {"recon": Goal(True, 75), "pooled": Goal(True, 75), "swap->C": Goal(True, 60), "swap->S": Goal(False, 10),
     "pairwise": Goal(True, 95), "gen": Goal(True, 60)},
    {"faces-celeba200": "CelebA", "faces-lfw": "LFW"},
)


def parse_goal(text: Any) -> Goal:
    """``">= 40"`` (or ``≥ 40``, ``"<= 10"``) -> a Goal; ValueError for anything else."""
    match = GOAL.match(str(text))
    if not match:
        raise ValueError(f"a goal reads like '>= 40' or '<= 10', not {text!r}")
    return Goal(match.group(1) in (">=", "≥"), float(match.group(2)))


def goals_from_card(figures: dict[str, Any], default: IdentityGoals = DEFAULT_GOALS) -> IdentityGoals:
    """The goals a card's ``mlvae:`` front matter states (``identity_goals``, ``source_names``), else ``default``."""
    stated, names = figures.get("identity_goals"), figures.get("source_names")
    try:
        goals = {str(k): parse_goal(v) for k, v in stated.items()} if isinstance(stated, dict) else default.figures
    except ValueError as exc:
        raise CheckpointError(f"the model card's mlvae.identity_goals: {exc}") from exc
    names = {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else default.source_names
    return IdentityGoals(goals, names)


def goals_front_matter(goals: IdentityGoals) -> dict[str, dict[str, str]]:
    """The ``mlvae:`` front-matter entries that state ``goals`` (what ``goals_from_card`` reads back)."""
    return {"identity_goals": {f: f"{'>=' if g.at_least else '<='} {g.value:g}" for f, g in goals.figures.items()},
            "source_names": dict(goals.source_names)}
