"""Generate: the content of a group of inputs, pooled, with new styles drawn from the prior."""
from __future__ import annotations

import secrets
from collections.abc import Callable

import gradio as gr

from ..computing import computations
from .base import PRIVATE, Page, Tab, Update
from .components import RESULT, notice_box, photo_input


def new_seed() -> int:
    """A fresh seed for the next Generate click."""
    return secrets.randbelow(1 << 31)


class GenerateTab(Tab):
    """The Generate tab (API ``/generate``)."""

    key, title = "generate", "Generate"

    def layout(self, page: Page) -> None:
        """The gallery, the count and seed, the button and the generated images."""
        gr.Markdown("The content of an input (pooled over a group of photos) with new styles drawn from the prior.")
        self.photos = [photo_input("generate", lambda k: k.words.group_inputs, "generate", page.words_kind)]
        with gr.Row():
            self.count = gr.Slider(1, computations.MAX_GENERATE, value=8, step=1, label="Images")
            self.seed = gr.Number(value=0, precision=0, label="Seed", elem_id="gen-seed", minimum=0,
                                  maximum=computations.MAX_SEED)
            self.button = gr.Button("Generate (new seed)", variant="primary", elem_id="generate-button")
        self.notice = notice_box("generate")
        self.image = gr.Image(label="Generated", **RESULT, height=300, elem_id="gen-image")

    def wire(self, page: Page) -> None:
        """``/generate``; a click draws a new seed first (the same seed gives the same images); the count, the
        seed and the gallery's edits update the images."""
        args = [page.model, self.photos[0].gallery, self.count, self.seed]
        page.endpoint(page.endpoints.generate, args, self.image, "generate")
        self.update = Update(page.endpoints.generate, args, [self.image], self.notice, page.need_photos)
        self.update.listen(self.button.click(new_seed, None, self.seed, show_progress="hidden", **PRIVATE).then)
        self.update.listen(self.count.input, self.count.release, self.seed.input)
        self.wire_photos(page, self.update)

    def refresh(self, trigger: Callable) -> None:
        """Generate from the (new) gallery again."""
        self.update.follow(trigger)
