"""Pool evidence: photos of one person (or drawings of one digit) reconstructed alone and with their pooled
content, the pooled identity in fresh styles, the variance chart; and live pooling from the webcam below."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from ..computing import computations
from ..kinds import FACES, Kind
from .base import Page, Tab, Update
from .components import RESULT, notice_box, photo_input, variance_chart
from .live import LiveSection


class PoolTab(Tab):
    """The Pool evidence tab (API ``/pool``)."""

    key, title = "pool", "Pool evidence"

    def layout(self, page: Page) -> None:
        """The gallery, the Pool button, the sheets and the chart, then the live section."""
        words = page.words_kind.words
        self.intro = gr.Markdown(words.pool_intro, elem_classes="tab-intro")
        self.photos = [photo_input("pool", lambda k: k.words.group_inputs, "pool", page.words_kind)]
        self.button = gr.Button("Pool", variant="primary")
        self.notice = notice_box("pool")
        self.summary = gr.Markdown(label="Summary", elem_id="pool-summary")
        with gr.Row():
            with gr.Column(scale=3):
                gr.Markdown("Rows: each photo as the model sees it · reconstructed alone · reconstructed with the "
                            "content pooled over all photos")
                self.sheet = gr.Image(label="Reconstructions", **RESULT, height=440, elem_id="pool-sheet")
            with gr.Column(scale=2):
                gr.Markdown("The pooled identity with fresh styles drawn from the prior")
                self.fresh = gr.Image(label="Pooled identity", **RESULT, height=440, elem_id="pool-fresh")
        self.chart = variance_chart("Content uncertainty after pooling", "pool-chart", computations.MAX_GROUP)
        self.live = LiveSection(page)

    def wire(self, page: Page) -> None:
        """``/pool``; the Pool button and the gallery's edits update the tab; the live section's events."""
        args = [page.model, self.photos[0].gallery]
        outputs = [self.sheet, self.fresh, self.chart, self.summary]
        page.endpoint(page.endpoints.pool, args, outputs, "pool")

        def pool_ui(model_name: str, photos: Any) -> tuple:
            """The pool endpoint's outputs, the chart shown only for more than one photo."""
            sheet, fresh, chart, summary = page.endpoints.pool(model_name, photos)
            return sheet, fresh, gr.update(value=chart, visible=len(chart) > 1), summary  # one photo: the text

        self.update = Update(pool_ui, args, outputs, self.notice, page.need_photos)
        self.update.listen(self.button.click)
        self.wire_photos(page, self.update)
        self.live.wire(page)

    def refresh(self, trigger: Callable) -> None:
        """Pool the (new) gallery again."""
        self.update.follow(trigger)

    def for_kind(self, kind: Kind | None) -> dict[Any, Any]:
        """The gallery's label, the introduction, the pad; the live section for faces only."""
        return {**super().for_kind(kind), self.intro: (kind or FACES).words.pool_intro,
                **self.live.for_kind(kind)}
