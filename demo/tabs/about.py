"""About: what the selected model is, what pooling means for it, its limits and its model card with its figures;
the line under the model picker when the model falls short of its goals links here."""
from __future__ import annotations

from typing import Any

import gradio as gr

from ..computing.guard import guarded
from ..models import not_loaded_note
from .base import PRIVATE, Page, Tab


class AboutTab(Tab):
    """The About tab (API ``/about``, called when the model changes)."""

    key, title = "about", "About"

    def layout(self, page: Page) -> None:
        """The model's description, the checkpoints not loaded, the card's figures."""
        default, endpoints = page.registry.default, page.endpoints
        self.text = gr.Markdown(endpoints.about(default), label="About the model", elem_id="about-model")
        gr.Markdown(not_loaded_note(page.registry), visible=bool(page.registry.problems), elem_id="about-not-loaded")
        self.figures = gr.Gallery(endpoints.figures(default), label="Figures of the model card", columns=2,
                                  height="auto", object_fit="contain", interactive=False, elem_id="about-figures",
                                  visible=bool(endpoints.figures(default)))

    def wire(self, page: Page) -> None:
        """``/about`` on a model change; the shortfall line and the figures follow the model; the shortfall line's
        button opens this tab."""
        endpoints, header = page.endpoints, page.header
        assert header is not None and page.tabs is not None, "the header and the tabs are laid out before the events"
        page.model.change(guarded(endpoints.about), page.model, self.text, api_name="about")

        def show_card_note(model_name: str | None) -> tuple[Any, str, Any]:
            """The shortfall line and the card's figures of the selected model."""
            note = endpoints.shortfall(model_name)
            figures = endpoints.figures(model_name)
            return gr.update(visible=bool(note)), note, gr.update(value=figures or None, visible=bool(figures))

        page.model.change(show_card_note, page.model, [header.shortfall_row, header.shortfall, self.figures], **PRIVATE)

        def open_card() -> Any:
            """Select the About tab."""
            return gr.Tabs(selected=self.key)

        header.to_card.click(open_card, None, page.tabs, **PRIVATE)
