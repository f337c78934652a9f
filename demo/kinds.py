"""The kinds of model the demo serves, digits and faces, and everything that differs between them: the words of
the tabs, what a group shows, which inputs are offered (the drawing pad, live pooling) and which examples fill the
tabs. A model's kind is stated when it is loaded (``demo.models``), never guessed from its images' channels."""
from __future__ import annotations

from dataclasses import dataclass

from mlvae import RunConfig


@dataclass(frozen=True)
class Wording:
    """Labels and tab introductions for one kind of model."""

    group_inputs: str  # the label of a gallery of one group
    pool_intro: str
    interpolate_intro: str
    swap_inputs: str
    examples_note: str  # what the examples are, and how to use one's own inputs instead
    add_first: str  # what a tab with no input says
    input_hint: str  # how to give a tab the inputs it lacks
    item: str = "photo"  # what one input is called in sentences ("Pooling 5 photos")


@dataclass(frozen=True)
class ExampleGroups:
    """Which example files fill each tab: their name pattern and the group each tab takes."""

    pattern: str  # a file name with {group} and {index}, under demo/examples/<kind>/
    pool: int
    interp_a: int
    interp_b: int
    generate: int
    swap: tuple[int, ...]


@dataclass(frozen=True)
class Kind:
    """One kind of model: its name (``digits`` or ``faces``) and what follows from it."""

    name: str
    group: str  # what one group's images show
    colour: str  # how its images are described
    takes_drawings: bool  # the drawing pad is offered, and light-background images are framed the MNIST way
    live_pooling: bool  # the webcam's live pooling is offered
    words: Wording
    examples: ExampleGroups


FACES = Kind(
    name="faces", group="person", colour="colour", takes_drawings=False, live_pooling=True,
    words=Wording(
        group_inputs="Photos of one person",
        pool_intro="Several photos of **one** person. Each photo is reconstructed alone and with the content pooled "
                   "over all of them.",
        interpolate_intro="Two inputs, **A** and **B** (add more photos of the same person to pool their content). "
                          "The sliders move the style and the content from A to B separately.",
        swap_inputs="Photos (up to 8)",
        examples_note="**The faces shown at first are examples the model decoded itself** (no photo of a real person "
                      "ships with the demo), so they look smooth and alike. Use your own: drop photos on a gallery, "
                      "paste one, or take them with the webcam (the camera icon under a gallery), or pool your face "
                      "live from the webcam in Pool evidence. The first photo you add to a gallery replaces its "
                      "examples.",
        add_first="Add photos first: drop or upload them, paste one, or take them with the webcam (the camera icon).",
        input_hint="Upload photos with a face in each, paste one, or take them with the webcam.",
    ),
    examples=ExampleGroups("person-{group}-{index}.png", pool=0, interp_a=1, interp_b=2, generate=4, swap=(0, 1, 2, 3)),
)
DIGITS = Kind(
    name="digits", group="digit", colour="greyscale", takes_drawings=True, live_pooling=False,
    words=Wording(
        group_inputs="Drawings of one digit",
        pool_intro="Several drawings (or images) of **one** digit. Each is reconstructed alone and with the content "
                   "pooled over all of them.",
        interpolate_intro="Two inputs, **A** and **B** (add more drawings of the same digit to pool their content). "
                          "The sliders move the style and the content from A to B separately.",
        swap_inputs="Drawings or digit images (up to 8)",
        examples_note="**The digits shown at first are examples the model decoded itself.** Use your own: draw a "
                      "digit (Draw a digit, under a gallery), drop or paste images of digits. The first drawing or "
                      "image you add to a gallery replaces its examples.",
        add_first="Add digits first: draw one (Draw a digit, below), drop or upload images, or paste one.",
        input_hint="Draw a digit, or upload images of digits.",
        item="image",
    ),
    examples=ExampleGroups("digit-{group}-{index}.png", pool=3, interp_a=2, interp_b=7, generate=5, swap=(1, 4, 6, 9)),
)
KINDS = {kind.name: kind for kind in (DIGITS, FACES)}
DATASET_KINDS = {"mnist": DIGITS}  # the kind of a model trained on a dataset; any other (a folder of photos): FACES


def kind_of(config: RunConfig) -> Kind:
    """The kind of a checkpoint, from the dataset it was trained on (``mnist``: digits; photo folders: faces)."""
    return DATASET_KINDS.get(config.data.dataset, FACES)


def kind_named(name: str | None) -> Kind:
    """The kind called ``name``; faces when none is (no model loaded), whose words suit an empty demo."""
    return KINDS.get(name or "", FACES)
