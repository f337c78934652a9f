"""Interpolate: two inputs A and B, the style and the content moved from A to B by two sliders; the image at the
sliders' weights and the whole grid."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from ..galleries.example_edits import users_entries
from ..kinds import FACES, Kind
from . import notices
from .base import Page, Tab, Update
from .components import RESULT, WIDE_RESULT, notice_box, photo_input


class InterpolateTab(Tab):
    """The Interpolate tab (API ``/interpolate``, and ``/interpolate_image`` for the image alone)."""

    key, title = "interpolate", "Interpolate"

    def layout(self, page: Page) -> None:
        """Galleries A and B, the two sliders, the button, the image at the sliders and the grid."""
        self.intro = gr.Markdown(page.words_kind.words.interpolate_intro, elem_classes="tab-intro")
        with gr.Row():
            with gr.Column():
                a = photo_input("interp_a", lambda k: "A", "interp-a", page.words_kind)
            with gr.Column():
                b = photo_input("interp_b", lambda k: "B", "interp-b", page.words_kind)
        self.photos = [a, b]
        with gr.Row():
            self.style = gr.Slider(0, 1, value=0.5, step=0.05, label="Style: A → B", elem_id="style-weight")
            self.content = gr.Slider(0, 1, value=0.5, step=0.05, label="Content: A → B", elem_id="content-weight")
        self.button = gr.Button("Interpolate", variant="primary")
        self.notice = notice_box("interpolate")
        with gr.Row():
            with gr.Column(scale=1, min_width=200):
                gr.Markdown("At the sliders' weights: the model's output, enlarged to fit")
                self.image = gr.Image(label="At the sliders", **RESULT, height=240, elem_id="interp-image")
            with gr.Column(scale=3):
                gr.Markdown("The grid: the style goes from A to B along each row, the content from A to B down each "
                            "column (labelled under and beside it)")
                self.grid = gr.Image(label="Interpolation grid", **WIDE_RESULT, height=520, elem_id="interp-grid")

    def wire(self, page: Page) -> None:
        """Both endpoints; the button and the galleries' edits update image and grid, the sliders the image."""
        args = [page.model, self.photos[0].gallery, self.photos[1].gallery, self.style, self.content]
        page.endpoint(page.endpoints.interpolate, args, [self.image, self.grid], "interpolate")
        page.endpoint(page.endpoints.interpolate_image, args, self.image, "interpolate_image")
        allowed = page.endpoints.allowed

        def said(fn: Callable) -> Callable:
            """``fn`` (an interpolation), with a notice when one side is the user's and the other still examples."""

            def run(model_name: str, a: Any, b: Any, *rest: Any) -> Any:
                mine = [bool(users_entries(g, allowed)) for g in (a, b)]
                if mine[0] != mine[1]:
                    side, other = ("B", "A") if mine[0] else ("A", "B")
                    notices.warn(f"{side} is still the example the model decoded itself, so your {other} is "
                                 f"interpolated toward it: add your own photo to {side}.")
                return fn(model_name, a, b, *rest)

            return run

        def need_a_and_b(model_name: str | None, a: Any, b: Any, *rest: Any) -> str | None:
            """Why nothing can be interpolated (A or B empty), or None."""
            if a and b:
                return None
            if not a and not b:
                return page.add_first(model_name)
            return f"Interpolation goes from A to B: add {'a photo to B' if a else 'a photo to A'} too."

        self.update = Update(said(page.endpoints.interpolate), args, [self.image, self.grid], self.notice,
                             need_a_and_b)
        image_only = Update(said(page.endpoints.interpolate_image), args, [self.image], self.notice, need_a_and_b)
        self.update.listen(self.button.click)
        # sliders: keyboard, drag and a typed value all fire .input; .release also covers the reset button
        image_only.listen(self.style.input, self.style.release, self.content.input, self.content.release)
        self.wire_photos(page, self.update)

    def refresh(self, trigger: Callable) -> None:
        """Interpolate the (new) galleries again."""
        self.update.follow(trigger)

    def for_kind(self, kind: Kind | None) -> dict[Any, Any]:
        """The galleries' labels, the pads and the introduction."""
        return {**super().for_kind(kind), self.intro: (kind or FACES).words.interpolate_intro}
