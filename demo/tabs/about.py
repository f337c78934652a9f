"""About: a short plain explanation of the selected model with a picture it decoded itself (its examples, swapped),
what its style holds; then, one click away, the full description, its limits and its model card with its figures.
The line under the model picker when the model falls short of its goals opens the card here."""
from __future__ import annotations

from typing import Any

import gradio as gr
from PIL import Image

from ..computing.guard import guarded
from ..galleries.example_sets import example_set
from ..kinds import FACES, Kind
from ..models import not_loaded_note
from .base import PRIVATE, Page, Tab
from .components import RESULT

PLAIN = {  # what a newcomer reads first, by kind of model
    "faces": """### In short
The model learns from **groups of photos of one person**, without being told who anyone is. It splits each photo
into two codes: the **content**, what every photo of the person shares (who it is), and the **style**, what belongs
to this photo alone. Photos of one person **pool** their content: each adds evidence, so the identity grows more
certain with every photo (the chart in *Pool evidence*).

**What the style holds for faces:** the pose (how the head is turned and tilted), the light, the expression, the
background and the framing, and in this model also much of the skin tone, which should belong to the person.

**The picture:** faces the model decoded itself (no real person). Each column keeps the **content** of the face
above it, each row the **style** of the face on its left.

The model is small and sees 64 x 64 faces: its faces are blurry, and it does not yet keep a person recognisable
(the line under the model picker says by how much). The details are one click below: what it is, its limits and
its model card.""",
    "digits": """### In short
The model learns from **groups of drawings of one digit**, without being told which digit. It splits each drawing
into two codes: the **content**, what every drawing of the group shares (which digit), and the **style**, what
belongs to this drawing alone. Drawings of one digit **pool** their content: each adds evidence, so the digit grows
more certain with every drawing (the chart in *Pool evidence*).

**What the style holds for digits:** the slant, the stroke's width, the size and the way the digit is written
(a crossed 7, an open 4).

**The picture:** digits the model decoded itself. Each column keeps the **content** of the digit above it, each row
the **style** of the digit on its left.

The details are one click below: what the model is, its limits and its model card.""",
}


def plain_about(kind: Kind | None) -> str:
    """The short explanation for a model of ``kind`` (None: no model loaded)."""
    return PLAIN[(kind or FACES).name] if kind else "No model is loaded, so there is nothing to describe yet."


class AboutTab(Tab):
    """The About tab (API ``/about``, called when the model changes)."""

    key, title = "about", "About"

    def layout(self, page: Page) -> None:
        """The plain explanation and its picture; the model's description, the checkpoints not loaded and the
        card's figures in an accordion."""
        default, endpoints = page.registry.default, page.endpoints
        self.pictures = {name: self.picture_of(page, name) for name in page.registry.models}  # made once
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                self.plain = gr.Markdown(plain_about(page.kind), elem_id="about-model")
            with gr.Column(scale=2, min_width=260):
                self.picture = gr.Image(self.pictures.get(default), label="Swapped: content by column, style by "
                                        "row", **RESULT, height=380, elem_id="about-picture")
        with gr.Accordion("The model in detail: what it is, its limits, its model card and figures", open=False,
                          elem_id="about-details") as self.details:
            self.text = gr.Markdown(endpoints.about(default), label="About the model", elem_id="about-card")
            gr.Markdown(not_loaded_note(page.registry), visible=bool(page.registry.problems),
                        elem_id="about-not-loaded")
            self.figures = gr.Gallery(endpoints.figures(default), label="Figures of the model card", columns=2,
                                      height="auto", object_fit="contain", interactive=False, elem_id="about-figures",
                                      visible=bool(endpoints.figures(default)))

    @staticmethod
    def picture_of(page: Page, model_name: str) -> Image.Image | None:
        """A swap grid of one example of each group the examples show: images the model decoded itself."""
        kind = page.kind_of(model_name)
        examples = example_set(kind.name).swap[::2] if kind else []
        if not examples:
            return None
        with Image.open(page.endpoints.swap(model_name, [(p, None) for p in examples], False, "")) as grid:
            return grid.convert("RGB")

    def wire(self, page: Page) -> None:
        """``/about`` on a model change; the explanation, picture, shortfall line and figures follow the model; the
        shortfall line's button opens this tab with the details."""
        endpoints, header = page.endpoints, page.header
        assert header is not None and page.tabs is not None, "the header and the tabs are laid out before the events"
        page.model.change(guarded(endpoints.about), page.model, self.text, api_name="about")

        def show_card_note(model_name: str | None) -> tuple[Any, ...]:
            """The shortfall line, the explanation, its picture and the card's figures of the selected model."""
            note = endpoints.shortfall(model_name)
            figures = endpoints.figures(model_name)
            return (gr.update(visible=bool(note)), note, plain_about(page.kind_of(model_name)),
                    self.pictures.get(model_name), gr.update(value=figures or None, visible=bool(figures)))

        page.model.change(guarded(show_card_note), page.model,
                          [header.shortfall_row, header.shortfall, self.plain, self.picture, self.figures], **PRIVATE)

        def open_card() -> tuple[Any, Any]:
            """Select the About tab, its details open."""
            return gr.Tabs(selected=self.key), gr.Accordion(open=True)

        header.to_card.click(open_card, None, [page.tabs, self.details], **PRIVATE)
