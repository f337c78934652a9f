"""The words of the tabs that depend on the kind of model selected: photos of one person, drawings of one digit."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Wording:
    """Labels and tab introductions for one kind of model (``faces`` or ``digits``)."""

    group_inputs: str  # the label of a gallery of one group
    pool_intro: str
    interpolate_intro: str
    swap_inputs: str


FACES = Wording(
    group_inputs="Photos of one person",
    pool_intro="Several photos of **one** person. Each photo is reconstructed alone and with the content pooled "
               "over all of them.",
    interpolate_intro="Two inputs, **A** and **B** (add more photos of the same person to pool their content). "
                      "The sliders move the style and the content from A to B separately.",
    swap_inputs="Photos (up to 8)",
)
DIGITS = Wording(
    group_inputs="Drawings of one digit",
    pool_intro="Several drawings (or images) of **one** digit. Each is reconstructed alone and with the content "
               "pooled over all of them.",
    interpolate_intro="Two inputs, **A** and **B** (add more drawings of the same digit to pool their content). "
                      "The sliders move the style and the content from A to B separately.",
    swap_inputs="Drawings or digit images (up to 8)",
)


def wording(kind: str | None) -> Wording:
    """The words for a ``digits`` or ``faces`` model (faces when no model is loaded)."""
    return DIGITS if kind == "digits" else FACES
