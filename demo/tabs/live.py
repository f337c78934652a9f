"""The Pool tab's live section: webcam frames streamed and pooled as they arrive (``demo.computing.live_pooling``),
the pooled identity, the last frames pooled and the variance chart redrawn; Reset starts a new pool."""
from __future__ import annotations

import html
import logging
from typing import Any

import gradio as gr

from mlvae import MLVAEError

from ..computing.guard import COMPUTING
from ..computing.live_pooling import MAX_POOLED, LivePooling, LiveState, status_line
from ..gradio_internals.request_files import upload_folders
from ..gradio_internals.streamed_frames import hand_over_frames
from ..kinds import Kind
from .base import PRIVATE, Page
from .components import RESULT, variance_chart

STREAM_EVERY_S = 0.25  # the webcam sends a frame this often while live pooling runs
STREAM_SECONDS = 120  # one live stream's time limit; starting the camera again continues the same pool
# Each session's stream holds one of LIVE_STREAMS places (a stream that stops sending frees its place within
# demo.gradio_internals.live_streams.IDLE_S) and its own state; Gradio keeps only a stream's newest frame, so a
# session whose frames come faster than they are pooled drops its own, and each frame computes in one of the
# app's demo.computing.guard.COMPUTING slots, shared with every other request
LIVE_STREAMS = 8
STREAM = dict(stream_every=STREAM_EVERY_S, time_limit=STREAM_SECONDS, concurrency_limit=LIVE_STREAMS,
              concurrency_id="live", show_progress="hidden", **PRIVATE)
log = logging.getLogger(__name__)


class LiveSection:
    """The live pooling accordion of the Pool tab (faces models only)."""

    def __init__(self, page: Page) -> None:
        """Lay out the camera, Reset, the status line, the pooled identity, the recent frames and the chart."""
        with gr.Accordion("Live: pool your face from the webcam", open=True, visible=page.words_kind.live_pooling,
                          elem_id="live") as self.box:
            gr.Markdown("Start the camera below: every new view of your face (turn your head a little, change the "
                        "light) is aligned, encoded and pooled as it arrives, and the pooled identity is redrawn "
                        "with four fixed styles. Stop with the camera's button; Reset starts a new pool.")
            with gr.Row():
                with gr.Column(scale=2, min_width=280):
                    self.camera = hand_over_frames(gr.Image(sources=["webcam"], streaming=True, type="filepath",
                                                            label="Webcam", elem_id="live-camera", height=320))
                    self.reset = gr.Button("Reset the live pool", size="sm", elem_id="live-reset")
                with gr.Column(scale=3, min_width=280):
                    self.status = gr.Markdown(status_line(LiveState()), elem_id="live-status")
                    self.identity = gr.Image(label="Pooled identity, four fixed styles", **RESULT, height=200,
                                             elem_id="live-identity")
                    self.recent = gr.Image(label="The last frames pooled, as the model sees them", **RESULT,
                                           height=110, elem_id="live-recent")
            self.chart = variance_chart("Content uncertainty, live", "live-chart", MAX_POOLED, "frames pooled")
            self.state = gr.State(None)

    def wire(self, page: Page) -> None:
        """Each streamed frame pooled into the session's state; Reset empties it."""
        # the frames Gradio writes into its own upload folder (the first of upload_folders) are deleted once read
        pooling = LivePooling(page.registry, page.endpoints.results, page.endpoints.allowed, upload_folders()[0])
        outputs = [self.state, self.identity, self.recent, self.chart, self.status]

        def live_frame(model_name: str, frame: Any, state: Any) -> tuple:
            """Pool one streamed frame into the session's state; what the page shows. It never raises: an error
            would end the stream, and the camera would wait for it."""
            try:
                with COMPUTING:
                    state, view = pooling.frame(model_name, frame, state)
            except MLVAEError as exc:
                return state, gr.skip(), gr.skip(), gr.skip(), f"Live pooling: {html.escape(str(exc))}."
            except Exception as exc:  # the stream goes on with the next frame
                log.exception("a live frame failed")
                return state, gr.skip(), gr.skip(), gr.skip(), (f"Live pooling: this frame failed on the server "
                                                                f"({type(exc).__name__}); the next one is tried.")
            if view is None:
                return state, gr.skip(), gr.skip(), gr.skip(), gr.skip()
            if view.identity is None:  # nothing pooled: the images and the chart stay (a chart redrawn four times a
                return state, gr.skip(), gr.skip(), gr.skip(), view.status  # second costs the page's CPU)
            return state, view.identity, view.recent, gr.update(value=view.chart, visible=len(view.chart) > 1), \
                view.status

        def live_reset_all() -> tuple:
            """An empty live pool and an empty page section."""
            return LiveState(), None, None, gr.update(value=None, visible=False), status_line(LiveState())

        self.camera.stream(live_frame, [page.model, self.camera, self.state], outputs, **STREAM)
        self.reset.click(live_reset_all, None, outputs, show_progress="hidden", **PRIVATE)

    def for_kind(self, kind: Kind | None) -> dict[Any, Any]:
        """Shown for a model that pools live (faces), hidden otherwise."""
        return {self.box: gr.update(visible=bool(kind and kind.live_pooling))}
