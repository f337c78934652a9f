"""Swap grid: every input's style with every input's content, each column's content optionally pooled over the
inputs of its group (group labels typed by the user)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from ..galleries.example_edits import without_examples
from ..galleries.memory import labels_after_edit
from . import notices
from .base import PRIVATE, Page, Tab, Update, wire_drawing
from .components import WIDE_RESULT, notice_box, photo_input

LABELS_UNUSED = ("The group labels are used only when \"Pool each column's content over its group\" is ticked: "
                 "tick it to pool each photo's content with the others of its group.")


class SwapTab(Tab):
    """The Swap grid tab (API ``/swap``)."""

    key, title = "swap", "Swap grid"

    def layout(self, page: Page) -> None:
        """The gallery, pooling and group labels, the button and the grid."""
        gr.Markdown("Up to 8 inputs: each column has the **content** of the input above it, each row the **style** "
                    "of the input on its left (labelled under and beside the grid).")
        self.photos = [photo_input("swap", lambda k: k.words.swap_inputs, "swap", page.words_kind)]
        with gr.Row():
            self.pooled = gr.Checkbox(value=False, label="Pool each column's content over its group",
                                      elem_id="swap-pooled")
            self.labels = gr.Textbox(label="Group of each photo, in order (e.g. a a b b)", value="",
                                     placeholder="empty: all photos are one group", max_lines=1, elem_id="swap-labels")
        self.button = gr.Button("Swap", variant="primary")
        self.notice = notice_box("swap")
        self.grid = gr.Image(label="Swap grid", **WIDE_RESULT, height=640, elem_id="swap-grid")

    def wire(self, page: Page) -> None:
        """``/swap``; the button and Enter in the labels say when labels go unused; the pooling box and the
        gallery's edits (which keep the examples' labels only with the examples) update the grid."""
        gallery = self.photos[0].gallery
        args = [page.model, gallery, self.pooled, self.labels]
        page.endpoint(page.endpoints.swap, args, self.grid, "swap")

        def swap_told(model_name: str, photos: Any, pooled: bool, labels: str | None) -> str:
            """The swap grid, with a notice when group labels are given but pooling is off."""
            if (labels or "").strip() and not pooled:
                notices.warn(LABELS_UNUSED)
            return page.endpoints.swap(model_name, photos, pooled, labels)

        self.update = Update(page.endpoints.swap, args, [self.grid], self.notice, page.need_photos)
        told = Update(swap_told, args, [self.grid], self.notice, page.need_photos)
        told.listen(self.button.click)
        self.update.listen(self.pooled.change)
        told.listen(self.labels.submit)

        def own_swap_photos(model_name: str | None, value: Any, labels: str | None) -> tuple:
            """The user's photos without examples, and the labels that still fit them."""
            kept = without_examples(value, page.endpoints.allowed)
            kind = page.kind_of(model_name)
            return (gr.skip() if kept is None else kept,
                    labels_after_edit(kind.name if kind else None, value if kept is None else kept, labels))

        wire_drawing(page, self.photos[0])
        edited = gallery.change(own_swap_photos, [page.model, gallery, self.labels], [gallery, self.labels],
                                show_progress="hidden", queue=False, **PRIVATE)
        self.update.follow(edited.then)

    def refresh(self, trigger: Callable) -> None:
        """Swap the (new) gallery again."""
        self.update.follow(trigger)

    def remembered(self) -> dict[str, Any]:
        """The gallery and the group labels."""
        return {**super().remembered(), "swap_labels": self.labels}
