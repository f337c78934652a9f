"""The Gradio interface: a model picker and the tabs Pool evidence, Interpolate, Swap grid, Generate, About.

Every tab has a named API endpoint (``/pool``, ``/interpolate``, ``/interpolate_image``, ``/swap``,
``/generate``, ``/about``) that ``gradio_client`` can call with the model's name and image files.
"""
from __future__ import annotations

import functools
import html
import logging
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr
from starlette.middleware import Middleware

from mlvae import MLVAEError

from . import computations, notices, pad
from .drawing_pad import drawing_pad
from .endpoints import Endpoints
from .example_sets import EXAMPLES_DIR
from .gallery_edits import users_entries, without_examples
from .input_memory import labels_after_edit, switch
from .inputs import upload_folders
from .live import LivePooling, LiveState, status_line
from .models import ModelRegistry, no_model_message, not_loaded_note
from .request_errors import DemoBlocks
from .request_guard import RequestLimits
from .wording import wording

log = logging.getLogger(__name__)

UPLOAD_LIMIT = "64mb"  # per uploaded file, as Gradio takes it: a larger one makes the page drop the whole upload,
# so this is well above the limit of a photo (demo.inputs.MAX_PHOTO_BYTES), which refuses one file by name
CONCURRENCY = 2  # requests computed at once (a free Space has 2 vCPUs)
# Gradio limits concurrency per event listener; every event that runs a model shares this one queue, so that
# CONCURRENCY is the limit for the whole app, not for each of its dozen listeners. (A lane per kind of model, so
# that digits requests need not wait behind faces ones, was measured under 16 clients and made the p95 worse: the
# time goes to Gradio's event loop and the CPU, not to the order of the queue.)
MODEL_QUEUE = dict(concurrency_id="model")
TORCH_THREADS = 1  # per process: one core per concurrent request; more threads oversubscribe a small CPU
QUEUE_SIZE = 64  # waiting requests beyond this are turned away with a message
# sessions whose state the server keeps (Gradio's default is 10,000), the least recently used dropped first: each
# holds Gradio's copy of the page (~170 kB) and its last inputs (checked and bounded, demo.request_files)
MAX_SESSIONS = 1000
LIVE = dict(trigger_mode="always_last", show_progress="minimal", **MODEL_QUEUE)
# every computation, the webcam's live frames included, takes one of CONCURRENCY slots while it computes (the live
# stream holds its own queue slot, one stream at a time, for STREAM_SECONDS, but a slot here only per frame)
COMPUTING = threading.BoundedSemaphore(CONCURRENCY)
STREAM_EVERY_S = 0.25  # the webcam sends a frame this often while live pooling runs
STREAM_SECONDS = 120  # one live stream's time limit; starting the camera again continues the same pool
STREAM = dict(stream_every=STREAM_EVERY_S, time_limit=STREAM_SECONDS, concurrency_limit=1, concurrency_id="live",
              show_progress="hidden", api_visibility="private")
RESULT = dict(type="filepath", show_label=False, elem_classes="result", buttons=["download", "fullscreen"],
              interactive=False)
WIDE_RESULT = {**RESULT, "elem_classes": ["result", "wide"]}  # a grid: on a narrow screen, wider than it

INTRO = """# ML-VAE: pool, swap, interpolate
The **Multi-Level VAE** (Bouchacourt, Tomioka & Nowozin, AAAI 2018) splits each image into a **style** of its
own and a **content** shared by its group (a person's identity, a digit's class), and pools the content
evidence of several images of one group. Pick a model, then drop in photos (or draw digits)."""

CSS = """
.result img { width: 100%; height: 100%; object-fit: contain; }
.problem, .notice { border-left: 4px solid #d97706; padding-left: 0.75em; }
.shortfall-row { align-items: center; }
.photos:has(video) { height: auto !important; min-height: 420px; }  /* the webcam view at a usable size */
/* an empty gallery: as tall as its drop area and its upload, webcam and paste buttons (none clipped) */
.photos:has(> .source-selection) { height: auto !important; }
.photos:has(> .source-selection) .upload-container { min-height: 150px; }
.photos video { max-height: 480px; object-fit: contain; }
/* images only: no video recorder (a gallery's file_types would refuse a whole request for one odd file name,
   before the demo could name it) */
.photos button[aria-label="Record a video"], .photos button[aria-label="Record video from camera"] {
  display: none !important; }
.shortfall-row button { flex-grow: 0; min-width: max-content; }
/* a result's fullscreen and download buttons in a row above it, never over a photo */
.result .icon-button-wrapper.top-panel { position: static; justify-content: flex-end; margin: 0 0 2px auto; }
/* a narrow screen: the shortfall line above its button; results as tall as they are, no blank box around them */
@media (max-width: 560px) {
  .shortfall-row { flex-direction: column; align-items: stretch; }
  .result, .result .image-container, .result img { height: auto !important; max-height: none !important; }
  .result .image-frame, .result img { width: 100% !important; }  /* as wide as the screen, the single result too */
  /* the grids at a size where a face and the axis labels can be read, scrolled sideways */
  .result.wide .image-container { overflow-x: auto; display: block; }
  .result.wide .image-container > button { display: block; }  /* from its left edge: not centred, cut off */
  .result.wide .image-frame, .result.wide img { width: 760px !important; max-width: none !important; }
  #interp-image img { max-width: 256px; margin: 0 auto; }  /* one 64 px face: not a screen-wide blur */
  /* a gallery's or the pad's label above its toolbar, not under it */
  .photos > label[data-testid="block-label"], .pad label[data-testid="block-label"] { position: static; }
  .photos { height: auto !important; }
  .photos .icon-button-wrapper.top-panel { position: static; justify-content: flex-end; }
}
"""


SOURCE_LABELS = {"common.webcam": "Take photos with the webcam", "common.video": "Record a video"}


LABELS_UNUSED = ("The group labels are used only when \"Pool each column's content over its group\" is ticked: "
                 "tick it to pool each photo's content with the others of its group.")


def new_seed() -> int:
    """A fresh seed for the next Generate click."""
    return secrets.randbelow(1 << 31)


def launch_options() -> dict[str, Any]:
    """Keyword arguments of ``Blocks.launch`` that the demo needs (uploads, offline, theme)."""
    return dict(
        max_file_size=UPLOAD_LIMIT,
        i18n=gr.I18n(en=SOURCE_LABELS),  # Gradio 6's gallery shows these keys raw
        ssr_mode=False,  # no Node server: starts fast and works offline
        show_error=False,  # an unexpected error's text stays in the log; the demo's own messages are gr.Error
        app_kwargs=dict(middleware=[Middleware(RequestLimits)]),  # oversized requests refused before Gradio reads them
        allowed_paths=[str(EXAMPLES_DIR)],
        state_session_capacity=MAX_SESSIONS,
        theme=gr.themes.Soft(
            font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
        ),  # system fonts: no font download
        css=CSS,
    )


def variance_chart(label: str, key: str, most: int | None = None) -> gr.LinePlot:
    """A chart of the mean content variance against the number of photos pooled (up to ``most``: given as text,
    for whole-number ticks; None: as numbers)."""
    order = [str(k) for k in range(1, most + 1)] if most else None  # 1, 2, ..., 10, not 1, 10, 2
    return gr.LinePlot(x="photos", y="variance", label=label, x_title="photos pooled", y_title="mean content variance",
                       height=300, elem_id=key, sort=order)


def guarded(fn: Callable) -> Callable:
    """Turn a problem into a clear message in the UI (gr.Error) instead of a failed request."""

    @functools.wraps(fn)
    def run(*args: Any) -> Any:
        try:
            with COMPUTING:
                return fn(*args)
        except gr.Error:
            raise
        except MLVAEError as exc:
            raise gr.Error(html.escape(str(exc)), title="Cannot do that") from exc
        except Exception as exc:  # never let one request take the server down
            log.exception("request failed")
            raise gr.Error(
                f"Something went wrong on the server ({type(exc).__name__}). The demo keeps running: try other "
                "photos, or report the problem with the photos that caused it.",
            ) from exc

    return run


@dataclass
class PhotoInput:
    """A gallery of input photos, plus a drawing pad (digit models only) that adds to it."""

    gallery: gr.Gallery
    drawing: gr.Accordion
    pad: gr.Sketchpad
    add: gr.Button


def photo_input(label: str, key: str, digits: bool) -> PhotoInput:
    """Build one photo input: upload, webcam or paste into the gallery; draw into it for digit models."""
    gallery = gr.Gallery(
        label=label, type="filepath", interactive=True, sources=["upload", "webcam", "clipboard"],
        columns=8, fit_columns=False, height=200, object_fit="contain", elem_id=f"{key}-photos",
        elem_classes="photos",
    )
    with gr.Accordion("Draw a digit", open=False, visible=digits) as drawing:
        gr.Markdown("Draw one digit with the brush, then add it to the photos; the pad is then ready for the next.")
        sketch = drawing_pad(
            value=pad.blank(), type="pil", canvas_size=pad.CANVAS, fixed_canvas=True, layers=False, transforms=(),
            brush=gr.Brush(default_size=12, colors=["#000000"], color_mode="fixed"), label="Drawing pad",
            elem_id=f"{key}-pad", elem_classes="pad",
        )
        add = gr.Button("Add the drawing to the photos", size="sm")
    return PhotoInput(gallery, drawing, sketch, add)


def notice_box(key: str) -> gr.Markdown:
    """A tab's notice: what its last update could not use, until its next update (``demo.notices``)."""
    return gr.Markdown(visible=False, elem_id=f"{key}-notice", elem_classes="notice", label="Notice")


def build_app(registry: ModelRegistry) -> gr.Blocks:
    """The whole demo as a queued ``gr.Blocks``; launch it with ``app.launch(**launch_options())``."""
    default = registry.default
    kind = registry.get(default).kind if default is not None else None
    digits, words = kind == "digits", wording(kind)

    endpoints = Endpoints(registry, warn=notices.warn, allowed=upload_folders())
    pool, interpolate, interpolate_image = endpoints.pool, endpoints.interpolate, endpoints.interpolate_image
    swap, generate, about = endpoints.swap, endpoints.generate, endpoints.about

    with DemoBlocks(title="ML-VAE demo: pool, swap, interpolate", delete_cache=(3600, 3600)) as app:  # uploads: 1 h
        gr.Markdown(INTRO)
        problems = ([] if registry.models else [no_model_message()]) + registry.problems
        gr.Markdown("\n\n".join(f"**Note:** {html.escape(p)}" for p in problems), visible=bool(problems),
                    elem_classes="problem")
        model = gr.Dropdown(
            choices=registry.choices(), value=default, label="Model", interactive=bool(registry.models),
            info="Shipped checkpoints, plus any given with --model or $MLVAE_MODELS", elem_id="model",
        )
        with gr.Row(elem_classes="shortfall-row", visible=bool(endpoints.shortfall(default))) as shortfall_row:
            shortfall = gr.Markdown(endpoints.shortfall(default), elem_id="shortfall", scale=6, min_width=320)
            to_card = gr.Button("Read the model card", size="sm", variant="secondary", elem_id="to-card",
                                scale=0, min_width=160)
        examples_note = gr.Markdown(words.examples_note, elem_id="examples-note", elem_classes="examples-note")
        memory, shown = gr.State({}), gr.State(kind)  # each kind's inputs (demo.input_memory); the kind shown
        inputs: list[PhotoInput] = []
        with gr.Tabs(overflow_behavior="wrap") as tabs:  # a narrow screen shows every tab, in two rows
            with gr.Tab("Pool evidence", id="pool"):
                pool_intro = gr.Markdown(words.pool_intro)
                pool_in = photo_input(words.group_inputs, "pool", digits)
                pool_btn = gr.Button("Pool", variant="primary")
                pool_notice = notice_box("pool")
                pool_summary = gr.Markdown(label="Summary", elem_id="pool-summary")
                with gr.Row():
                    with gr.Column(scale=3):
                        gr.Markdown("Rows: each photo as the model sees it · reconstructed alone · reconstructed "
                                    "with the content pooled over all photos")
                        pool_sheet = gr.Image(label="Reconstructions", **RESULT, height=440, elem_id="pool-sheet")
                    with gr.Column(scale=2):
                        gr.Markdown("The pooled identity with fresh styles drawn from the prior")
                        pool_fresh = gr.Image(label="Pooled identity", **RESULT, height=440, elem_id="pool-fresh")
                pool_chart = variance_chart("Content uncertainty after pooling", "pool-chart", computations.MAX_GROUP)
                inputs.append(pool_in)
                with gr.Accordion("Live: pool your face from the webcam", open=True, visible=not digits,
                                  elem_id="live") as live_box:
                    gr.Markdown("Start the camera below: every new view of your face (turn your head a little, "
                                "change the light) is aligned, encoded and pooled as it arrives, and the pooled "
                                "identity is redrawn with four fixed styles. Stop with the camera's button; Reset "
                                "starts a new pool.")
                    with gr.Row():
                        with gr.Column(scale=2, min_width=280):
                            live_cam = gr.Image(sources=["webcam"], streaming=True, type="filepath", label="Webcam",
                                                elem_id="live-camera", height=320)
                            live_reset = gr.Button("Reset the live pool", size="sm", elem_id="live-reset")
                        with gr.Column(scale=3, min_width=280):
                            live_status = gr.Markdown(status_line(LiveState()), elem_id="live-status")
                            live_identity = gr.Image(label="Pooled identity, four fixed styles", **RESULT, height=200,
                                                     elem_id="live-identity")
                            live_recent = gr.Image(label="The last frames pooled, as the model sees them", **RESULT,
                                                   height=110, elem_id="live-recent")
                    live_chart = variance_chart("Content uncertainty, live", "live-chart")
                    live_state = gr.State(None)
            with gr.Tab("Interpolate", id="interpolate"):
                interp_intro = gr.Markdown(words.interpolate_intro)
                with gr.Row():
                    with gr.Column():
                        a_in = photo_input("A", "interp-a", digits)
                    with gr.Column():
                        b_in = photo_input("B", "interp-b", digits)
                with gr.Row():
                    style_w = gr.Slider(0, 1, value=0.5, step=0.05, label="Style: A → B", elem_id="style-weight")
                    content_w = gr.Slider(0, 1, value=0.5, step=0.05, label="Content: A → B",
                                          elem_id="content-weight")
                interp_btn = gr.Button("Interpolate", variant="primary")
                interp_notice = notice_box("interpolate")
                with gr.Row():
                    with gr.Column(scale=1, min_width=200):
                        gr.Markdown("At the sliders' weights: the model's output, enlarged to fit")
                        interp_image = gr.Image(label="At the sliders", **RESULT, height=240, elem_id="interp-image")
                    with gr.Column(scale=3):
                        gr.Markdown("The grid: the style goes from A to B along each row, the content from A to B "
                                    "down each column (labelled under and beside it)")
                        interp_grid = gr.Image(label="Interpolation grid", **WIDE_RESULT, height=520, elem_id="interp-grid")
                inputs += [a_in, b_in]
            with gr.Tab("Swap grid", id="swap"):
                gr.Markdown("Up to 8 inputs: each column has the **content** of the input above it, each row the "
                            "**style** of the input on its left (labelled under and beside the grid).")
                swap_in = photo_input(words.swap_inputs, "swap", digits)
                with gr.Row():
                    swap_pooled = gr.Checkbox(value=False, label="Pool each column's content over its group",
                                              elem_id="swap-pooled")
                    swap_labels = gr.Textbox(label="Group of each photo, in order (e.g. a a b b)",
                                             value="", placeholder="empty: all photos are one group", max_lines=1,
                                             elem_id="swap-labels")
                swap_btn = gr.Button("Swap", variant="primary")
                swap_notice = notice_box("swap")
                swap_grid = gr.Image(label="Swap grid", **WIDE_RESULT, height=640, elem_id="swap-grid")
                inputs.append(swap_in)
            with gr.Tab("Generate", id="generate"):
                gr.Markdown("The content of an input (pooled over a group of photos) with new styles drawn "
                            "from the prior.")
                gen_in = photo_input(words.group_inputs, "generate", digits)
                with gr.Row():
                    gen_count = gr.Slider(1, computations.MAX_GENERATE, value=8, step=1, label="Images")
                    gen_seed = gr.Number(value=0, precision=0, label="Seed", elem_id="gen-seed", minimum=0, maximum=computations.MAX_SEED)
                    gen_btn = gr.Button("Generate (new seed)", variant="primary", elem_id="generate-button")
                gen_notice = notice_box("generate")
                gen_image = gr.Image(label="Generated", **RESULT, height=300, elem_id="gen-image")
                inputs.append(gen_in)
            with gr.Tab("About", id="about"):
                about_model = gr.Markdown(about(default), label="About the model", elem_id="about-model")
                gr.Markdown(not_loaded_note(registry), visible=bool(registry.problems), elem_id="about-not-loaded")
                about_figures = gr.Gallery(endpoints.figures(default), label="Figures of the model card",
                                           columns=2, height="auto", object_fit="contain", interactive=False,
                                           elem_id="about-figures", visible=bool(endpoints.figures(default)))
        api_only = gr.Button(visible=False)  # the named API endpoints' trigger (the UI's own events are private)

        # ---- the API: one named endpoint per tab, errors as gr.Error ----
        pool_args = [model, pool_in.gallery]
        pool_out = [pool_sheet, pool_fresh, pool_chart, pool_summary]
        interp_args = [model, a_in.gallery, b_in.gallery, style_w, content_w]
        interp_out = [interp_image, interp_grid]
        swap_args = [model, swap_in.gallery, swap_pooled, swap_labels]
        gen_args = [model, gen_in.gallery, gen_count, gen_seed]
        api_only.click(guarded(pool), pool_args, pool_out, api_name="pool", **MODEL_QUEUE)
        api_only.click(guarded(interpolate), interp_args, interp_out, api_name="interpolate", **MODEL_QUEUE)
        api_only.click(guarded(interpolate_image), interp_args, interp_image, api_name="interpolate_image",
                       **MODEL_QUEUE)
        api_only.click(guarded(swap), swap_args, swap_grid, api_name="swap", **MODEL_QUEUE)
        api_only.click(guarded(generate), gen_args, gen_image, api_name="generate", **MODEL_QUEUE)
        model.change(guarded(about), model, about_model, api_name="about")

        # ---- the UI: buttons and live updates, each tab's problems in its own notice ----
        def pool_ui(model_name, photos):
            sheet, fresh, chart, summary = pool(model_name, photos)
            return sheet, fresh, gr.update(value=chart, visible=len(chart) > 1), summary  # one photo: the text

        def add_first(model_name):
            m = registry.models.get(model_name)
            return wording(m.kind if m else None).add_first

        def need_photos(model_name, photos, *rest):
            return None if photos else add_first(model_name)

        def need_a_and_b(model_name, a, b, *rest):
            if a and b:
                return None
            if not a and not b:
                return add_first(model_name)
            return f"Interpolation goes from A to B: add {'a photo to B' if a else 'a photo to A'} too."

        def swap_told(model_name, photos, pooled, labels):
            if (labels or "").strip() and not pooled:
                notices.warn(LABELS_UNUSED)
            return swap(model_name, photos, pooled, labels)

        updates = {  # per tab: (UI function, inputs, outputs)
            "pool": (notices.with_notice(guarded(pool_ui), 4, need_photos), pool_args, pool_out + [pool_notice]),
            "interpolate": (notices.with_notice(guarded(interpolate), 2, need_a_and_b), interp_args,
                            interp_out + [interp_notice]),
            "interpolate_image": (notices.with_notice(guarded(interpolate_image), 1, need_a_and_b), interp_args,
                                  [interp_image, interp_notice]),
            "swap": (notices.with_notice(guarded(swap), 1, need_photos), swap_args, [swap_grid, swap_notice]),
            "swap_told": (notices.with_notice(guarded(swap_told), 1, need_photos), swap_args,
                          [swap_grid, swap_notice]),
            "generate": (notices.with_notice(guarded(generate), 1, need_photos), gen_args, [gen_image, gen_notice]),
        }
        tab_of_input = ["pool", "interpolate", "interpolate", "swap", "generate"]  # the order of ``inputs``

        def listen(trigger: Any, tab: str) -> None:
            """Run ``tab``'s UI update on ``trigger`` (an event method, or a list of them)."""
            fn, args, outs = updates[tab]
            if isinstance(trigger, list):
                gr.on(trigger, fn, args, outs, api_visibility="private", **LIVE)
            else:
                trigger(fn, args, outs, api_visibility="private", **LIVE)

        for button, tab in ((pool_btn, "pool"), (interp_btn, "interpolate"), (swap_btn, "swap_told")):
            listen(button.click, tab)
        # a click on Generate draws a new seed (the same seed would give the same images): then the images
        listen(gen_btn.click(new_seed, None, gen_seed, api_visibility="private", show_progress="hidden").then,
               "generate")
        # sliders: keyboard, drag and a typed value all fire .input; .release also covers the reset button
        listen([style_w.input, style_w.release, content_w.input, content_w.release], "interpolate_image")
        listen([gen_count.input, gen_count.release, gen_seed.input], "generate")
        listen([swap_pooled.change], "swap")
        listen([swap_labels.submit], "swap_told")

        def clear_example_labels(model_name, gallery, labels):
            m = registry.models.get(model_name)
            return labels_after_edit(m.kind if m else None, gallery, labels)

        # Gallery.change fires on the user's edits (and when a tab first shows its gallery), not on updates made
        # by functions (examples, drawings, a model switch): those are followed by an explicit update. The first
        # photo the user adds to a gallery of examples replaces them (demo.gallery_edits).
        def own_photos(gallery):
            kept = without_examples(gallery, endpoints.allowed)
            return gr.skip() if kept is None else kept

        def own_swap_photos(model_name, gallery, labels):
            kept = without_examples(gallery, endpoints.allowed)
            return (gr.skip() if kept is None else kept,
                    clear_example_labels(model_name, gallery if kept is None else kept, labels))

        for inp, tab in zip(inputs, tab_of_input):
            if tab == "swap":
                edited = inp.gallery.change(own_swap_photos, [model, inp.gallery, swap_labels],
                                            [inp.gallery, swap_labels], api_visibility="private",
                                            show_progress="hidden", queue=False)
            else:
                edited = inp.gallery.change(own_photos, inp.gallery, inp.gallery, api_visibility="private",
                                            show_progress="hidden", queue=False)
            listen(edited.then, tab)

        # ---- drawing pads: a drawing added to a gallery of examples replaces them ----
        def add_drawing(pad_value, gallery):
            return pad.add_drawing(pad_value, users_entries(gallery, endpoints.allowed))

        # (the gallery's change event, above, then updates the tab: Gradio 6 fires it for a function's update too;
        # a second update chained here computed every drawing's result twice)
        for inp in inputs:
            inp.add.click(guarded(add_drawing), [inp.pad, inp.gallery], [inp.gallery, inp.pad],
                          api_visibility="private", show_progress="hidden")

        # ---- live pooling from the webcam (demo.live) ----
        live_pooling = LivePooling(registry, endpoints.results, endpoints.allowed)
        live_outputs = [live_state, live_identity, live_recent, live_chart, live_status]

        def live_frame(model_name, frame, state):
            state, view = live_pooling.frame(model_name, frame, state)
            if view is None:
                return state, gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return (state, view.identity or gr.skip(), view.recent or gr.skip(),
                    gr.update(value=view.chart, visible=len(view.chart) > 1), view.status)

        def live_reset_all():
            return LiveState(), None, None, gr.update(value=None, visible=False), status_line(LiveState())

        live_cam.stream(guarded(live_frame), [model, live_cam, live_state], live_outputs, **STREAM)
        live_reset.click(live_reset_all, None, live_outputs, api_visibility="private", show_progress="hidden")

        # ---- switching models: each kind keeps its own inputs (demo.input_memory) ----
        def switch_inputs(model_name, kept, shown_kind, *values):
            m = registry.models.get(model_name)
            new_kind = m.kind if m else None
            *galleries, labels = values
            kept, new_galleries, new_labels = switch(kept, shown_kind, new_kind, galleries, labels)
            w = wording(new_kind)
            gallery_labels = [w.group_inputs, "A", "B", w.swap_inputs, w.group_inputs]
            return (
                kept, new_kind,
                *[gr.update(visible=bool(m and m.is_digits)) for _ in inputs],
                *[gr.update(value=g or None, label=label) for g, label in zip(new_galleries, gallery_labels)],
                new_labels, w.pool_intro, w.interpolate_intro, w.examples_note,
                gr.update(visible=bool(m and not m.is_digits)),
            )

        galleries = [inp.gallery for inp in inputs]
        switched = model.change(
            switch_inputs, [model, memory, shown, *galleries, swap_labels],
            [memory, shown, *[inp.drawing for inp in inputs], *galleries, swap_labels, pool_intro, interp_intro,
             examples_note, live_box],
            api_visibility="private",
        )
        for tab in ("pool", "interpolate", "swap", "generate"):
            listen(switched.success, tab)

        def show_card_note(model_name):
            note = endpoints.shortfall(model_name)
            return gr.update(visible=bool(note)), note, gr.update(value=endpoints.figures(model_name) or None,
                                                                   visible=bool(endpoints.figures(model_name)))

        model.change(show_card_note, model, [shortfall_row, shortfall, about_figures], api_visibility="private")

        def open_card():
            return gr.Tabs(selected="about")

        to_card.click(open_card, None, tabs, api_visibility="private")

        def fill_examples(model_name):
            return switch_inputs(model_name, {}, None, *([None] * len(inputs)), "")

        loaded = app.load(fill_examples, model,
                          [memory, shown, *[inp.drawing for inp in inputs], *galleries, swap_labels, pool_intro,
                           interp_intro, examples_note, live_box], api_visibility="private")
        for tab in ("pool", "interpolate", "swap", "generate"):
            listen(loaded.success, tab)
    app.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return app
