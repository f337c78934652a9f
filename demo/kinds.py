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
    examples_note: str  # what the examples are, and how to use one's own inputs instead
    add_first: str  # what a tab with no input says


FACES = Wording(
    group_inputs="Photos of one person",
    pool_intro="Several photos of **one** person. Each photo is reconstructed alone and with the content pooled "
               "over all of them.",
    interpolate_intro="Two inputs, **A** and **B** (add more photos of the same person to pool their content). "
                      "The sliders move the style and the content from A to B separately.",
    swap_inputs="Photos (up to 8)",
    examples_note="**The faces shown at first are examples the model decoded itself** (no photo of a real person "
                  "ships with the demo), so they look smooth and alike. Use your own: drop photos on a gallery, paste "
                  "one, or take them with the webcam (the camera icon under a gallery), or pool your face live from "
                  "the webcam in Pool evidence. The first photo you add to a gallery replaces its examples.",
    add_first="Add photos first: drop or upload them, paste one, or take them with the webcam (the camera icon).",
)
DIGITS = Wording(
    group_inputs="Drawings of one digit",
    pool_intro="Several drawings (or images) of **one** digit. Each is reconstructed alone and with the content "
               "pooled over all of them.",
    interpolate_intro="Two inputs, **A** and **B** (add more drawings of the same digit to pool their content). "
                      "The sliders move the style and the content from A to B separately.",
    swap_inputs="Drawings or digit images (up to 8)",
    examples_note="**The digits shown at first are examples the model decoded itself.** Use your own: draw a digit "
                  "(Draw a digit, under a gallery), drop or paste images of digits. The first drawing or image you "
                  "add to a gallery replaces its examples.",
    add_first="Add digits first: draw one (Draw a digit, below), drop or upload images, or paste one.",
)


def wording(kind: str | None) -> Wording:
    """The words for a ``digits`` or ``faces`` model (faces when no model is loaded)."""
    return DIGITS if kind == "digits" else FACES
