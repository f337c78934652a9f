"""The Gradio interface: a model picker and the tabs Pool evidence, Interpolate, Swap grid, Generate, About.

Every tab has a named API endpoint (``/pool``, ``/interpolate``, ``/interpolate_image``, ``/swap``,
``/generate``, ``/about``) that ``gradio_client`` can call with the model's name and image files.
"""
from __future__ import annotations

import functools
import html
import logging
from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from mlvae import MLVAEError

from . import actions
from .example_sets import EXAMPLES_DIR, ExampleSet, example_set
from .handlers import Handlers
from .inputs import gallery_paths, save_drawing, upload_folders
from .models import ModelRegistry, no_model_message

log = logging.getLogger(__name__)

MAX_FILE_SIZE = "16mb"  # per uploaded file
CONCURRENCY = 2  # requests computed at once (a free Space has 2 vCPUs)
# Gradio limits concurrency per event listener; every event that runs a model shares this one queue, so that
# CONCURRENCY is the limit for the whole app, not for each of its dozen listeners.
MODEL_QUEUE = dict(concurrency_id="model")
TORCH_THREADS = 1  # per process: one core per concurrent request; more threads oversubscribe a small CPU
QUEUE_SIZE = 64  # waiting requests beyond this are turned away with a message
LIVE = dict(trigger_mode="always_last", show_progress="minimal", **MODEL_QUEUE)
RESULT = dict(type="filepath", show_label=False, elem_classes="result", buttons=["download", "fullscreen"],
              interactive=False)

INTRO = """# ML-VAE: pool, swap, interpolate
The **Multi-Level VAE** (Bouchacourt, Tomioka & Nowozin, AAAI 2018) splits each image into a **style** of its
own and a **content** shared by its group (a person's identity, a digit's class), and pools the content
evidence of several images of one group. Pick a model, then drop in photos (or draw digits)."""

ABOUT = """## What the model is
An encoder maps each image *x* to two Normal posteriors: its **style** *S* and its **evidence** about the
group's **content** *C*. A decoder draws an image from (*C*, *S*). Training uses groups of images that share
a content (photos of one person, digits of one class) and no other labels.

## What pooling means
The content posterior of a group is the **product** of the evidence of its images (paper eq. 7): precisions
add, so every photo of the same person makes the identity more certain (the chart in *Pool evidence*), and
the reconstructions with the pooled content agree on one identity while each keeps its own style.

## Limits
- The networks are small and trained on low-resolution data (28 x 28 digits, 64 x 64 faces): outputs are
  blurry, and faces that are far from the training photos (profile views, strong lighting, crops that are
  not centred on the face) are reconstructed poorly.
- Photos are centre-cropped the way the training photos were; put the face in the middle.
- Pooling assumes that all photos of a group really show the same person (or digit); mixing people pools
  their evidence anyway.
- Nothing you upload is stored beyond the running server's temporary files.
"""

CSS = """
.result img { width: 100%; height: 100%; object-fit: contain; }
.problem { border-left: 4px solid #d97706; padding-left: 0.75em; }
"""


def launch_options() -> dict[str, Any]:
    """Keyword arguments of ``Blocks.launch`` that the demo needs (uploads, offline, theme)."""
    return dict(
        max_file_size=MAX_FILE_SIZE,
        ssr_mode=False,  # no Node server: starts fast and works offline
        show_error=True,
        allowed_paths=[str(EXAMPLES_DIR)],
        theme=gr.themes.Soft(
            font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
        ),  # system fonts: no font download
        css=CSS,
    )


def guarded(fn: Callable) -> Callable:
    """Turn a problem into a clear message in the UI (gr.Error) instead of a failed request."""

    @functools.wraps(fn)
    def run(*args: Any) -> Any:
        try:
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
        columns=8, fit_columns=False, height=150, object_fit="contain", elem_id=f"{key}-photos",
    )
    with gr.Accordion("Draw a digit", open=False, visible=digits) as drawing:
        gr.Markdown("Pick the brush on the pad's left, draw one digit, then add it to the photos.")
        pad = gr.Sketchpad(
            type="pil", canvas_size=(280, 280), fixed_canvas=True, layers=False, transforms=(),
            brush=gr.Brush(default_size=12, colors=["#000000"], color_mode="fixed"), label="Drawing pad",
            elem_id=f"{key}-pad",
        )
        add = gr.Button("Add the drawing to the photos", size="sm")
    return PhotoInput(gallery, drawing, pad, add)


def build_app(registry: ModelRegistry) -> gr.Blocks:
    """The whole demo as a queued ``gr.Blocks``; launch it with ``app.launch(**launch_options())``."""
    default = registry.default
    digits = default is not None and registry.get(default).is_digits

    handlers = Handlers(registry, warn=lambda message: gr.Warning(html.escape(message)), allowed=upload_folders())
    pool, interpolate, interpolate_image = handlers.pool, handlers.interpolate, handlers.interpolate_image
    swap, generate, about = handlers.swap, handlers.generate, handlers.about

    def live(fn: Callable, outputs_count: int, *required: int) -> Callable:
        """``fn`` for change events: an empty required input clears the outputs instead of raising."""

        @guarded
        def run(*args):
            if any(not args[i] for i in required):
                return None if outputs_count == 1 else (None,) * outputs_count
            return fn(*args)

        return run

    with gr.Blocks(title="ML-VAE demo: pool, swap, interpolate", delete_cache=(3600, 3600)) as app:  # uploads: 1 h
        gr.Markdown(INTRO)
        problems = ([] if registry.models else [no_model_message()]) + registry.problems
        gr.Markdown("\n\n".join(f"**Note:** {html.escape(p)}" for p in problems), visible=bool(problems),
                    elem_classes="problem")
        model = gr.Dropdown(
            choices=registry.choices(), value=default, label="Model", interactive=bool(registry.models),
            info="Shipped checkpoints, plus any given with --model or $MLVAE_MODELS", elem_id="model",
        )
        shortfall = gr.Markdown(handlers.shortfall(default), elem_id="shortfall")
        inputs: list[PhotoInput] = []
        with gr.Tabs():
            with gr.Tab("Pool evidence", id="pool"):
                gr.Markdown("Several photos of **one** person (or drawings of one digit). Each photo is "
                            "reconstructed alone and with the content pooled over all of them.")
                pool_in = photo_input("Photos of one person", "pool", digits)
                pool_btn = gr.Button("Pool", variant="primary")
                pool_summary = gr.Markdown()
                with gr.Row():
                    with gr.Column(scale=3):
                        gr.Markdown("Rows: each photo as the model sees it · reconstructed alone · reconstructed "
                                    "with the content pooled over all photos")
                        pool_sheet = gr.Image(label="Reconstructions", **RESULT, height=300, elem_id="pool-sheet")
                    with gr.Column(scale=2):
                        gr.Markdown("The pooled identity with fresh styles drawn from the prior")
                        pool_fresh = gr.Image(label="Pooled identity", **RESULT, height=300, elem_id="pool-fresh")
                pool_chart = gr.LinePlot(x="photos", y="variance", label="Content uncertainty after pooling",
                                         x_title="photos pooled", y_title="mean content variance",
                                         height=300, elem_id="pool-chart",
                                         sort=[str(k) for k in range(1, actions.MAX_GROUP + 1)])  # 1, 2, ..., 10
                inputs.append(pool_in)
            with gr.Tab("Interpolate", id="interpolate"):
                gr.Markdown("Two inputs, **A** and **B** (add more photos of the same person to pool their "
                            "content). The sliders move the style and the content from A to B separately.")
                with gr.Row():
                    with gr.Column():
                        a_in = photo_input("A", "interp-a", digits)
                    with gr.Column():
                        b_in = photo_input("B", "interp-b", digits)
                with gr.Row():
                    style_w = gr.Slider(0, 1, value=0.5, step=0.05, label="Style: A → B")
                    content_w = gr.Slider(0, 1, value=0.5, step=0.05, label="Content: A → B")
                interp_btn = gr.Button("Interpolate", variant="primary")
                with gr.Row():
                    with gr.Column(scale=2):
                        gr.Markdown("At the sliders' weights")
                        interp_image = gr.Image(label="At the sliders", **RESULT, height=360, elem_id="interp-image")
                    with gr.Column(scale=3):
                        gr.Markdown("Rows move the content from A to B, columns the style")
                        interp_grid = gr.Image(label="Interpolation grid", **RESULT, height=360, elem_id="interp-grid")
                inputs += [a_in, b_in]
            with gr.Tab("Swap grid", id="swap"):
                gr.Markdown("Up to 8 photos: row *r* has the **style** of photo *r*, column *k* the **content** "
                            "of photo *k* (inputs on the top and on the left).")
                swap_in = photo_input("Photos (up to 8)", "swap", digits)
                with gr.Row():
                    swap_pooled = gr.Checkbox(value=False, label="Pool each column's content over its group")
                    swap_labels = gr.Textbox(label="Group of each photo, in order (e.g. a a b b)",
                                             value="", placeholder="empty: all photos are one group", max_lines=1)
                swap_btn = gr.Button("Swap", variant="primary")
                swap_grid = gr.Image(label="Swap grid", **RESULT, height=560, elem_id="swap-grid")
                inputs.append(swap_in)
            with gr.Tab("Generate", id="generate"):
                gr.Markdown("The content of an input (pooled over a group of photos) with new styles drawn "
                            "from the prior.")
                gen_in = photo_input("Photos of one person", "generate", digits)
                with gr.Row():
                    gen_count = gr.Slider(1, actions.MAX_GENERATE, value=8, step=1, label="Images")
                    gen_seed = gr.Number(value=0, precision=0, label="Seed", minimum=0, maximum=actions.MAX_SEED)
                    gen_btn = gr.Button("Generate", variant="primary")
                gen_image = gr.Image(label="Generated", **RESULT, height=300, elem_id="gen-image")
                inputs.append(gen_in)
            with gr.Tab("About", id="about"):
                about_model = gr.Markdown(about(default), elem_id="about-model")
                gr.Markdown(ABOUT)

        # ---- events: named endpoints for buttons (the API); live updates for the UI ----
        # Gallery.change fires on the user's edits only; updates made by functions (examples, drawings) are
        # followed by an explicit .then() of the same live update.
        pool_args = [model, pool_in.gallery]
        pool_out = [pool_sheet, pool_fresh, pool_chart, pool_summary]
        pool_btn.click(guarded(pool), pool_args, pool_out, api_name="pool", **MODEL_QUEUE)
        interp_args = [model, a_in.gallery, b_in.gallery, style_w, content_w]
        interp_out = [interp_image, interp_grid]
        interp_btn.click(guarded(interpolate), interp_args, interp_out, api_name="interpolate", **MODEL_QUEUE)
        style_w.release(guarded(interpolate_image), interp_args, interp_image, api_name="interpolate_image", **LIVE)
        content_w.release(guarded(interpolate_image), interp_args, interp_image, api_visibility="private", **LIVE)
        swap_args = [model, swap_in.gallery, swap_pooled, swap_labels]
        swap_btn.click(guarded(swap), swap_args, swap_grid, api_name="swap", **MODEL_QUEUE)
        gen_args = [model, gen_in.gallery, gen_count, gen_seed]
        gen_btn.click(guarded(generate), gen_args, gen_image, api_name="generate", **MODEL_QUEUE)
        model.change(guarded(about), model, about_model, api_name="about")
        model.change(handlers.shortfall, model, shortfall, api_visibility="private")

        updates = {  # per tab: (live function, inputs, outputs)
            "pool": (live(pool, 4, 1), pool_args, pool_out),
            "interpolate": (live(interpolate, 2, 1, 2), interp_args, interp_out),
            "swap": (live(swap, 1, 1), swap_args, swap_grid),
            "generate": (live(generate, 1, 1), gen_args, gen_image),
        }
        tab_of_input = ["pool", "interpolate", "interpolate", "swap", "generate"]  # the order of ``inputs``

        def listen(trigger: Callable, tab: str) -> None:
            fn, args, outs = updates[tab]
            trigger(fn, args, outs, api_visibility="private", **LIVE)

        for inp, tab in zip(inputs, tab_of_input):
            listen(inp.gallery.change, tab)
        listen(swap_pooled.change, "swap")
        listen(swap_labels.submit, "swap")
        listen(gen_count.release, "generate")
        listen(gen_seed.change, "generate")

        # ---- drawing pads, model switching and the examples ----
        def add_drawing(pad_value, value):
            composite = (pad_value or {}).get("composite")
            path = save_drawing(composite)
            if path is None:
                raise gr.Error("Draw a digit on the pad first.")
            return gallery_paths(value) + [path], None

        for inp, tab in zip(inputs, tab_of_input):
            added = inp.add.click(guarded(add_drawing), [inp.pad, inp.gallery], [inp.gallery, inp.pad],
                                  api_visibility="private", show_progress="hidden")
            listen(added.success, tab)

        def fill_examples(model_name):
            m = registry.models.get(model_name)
            ex = example_set(m.kind) if m else ExampleSet()  # no model: nothing to compute
            visible = [gr.update(visible=bool(m and m.is_digits)) for _ in inputs]
            galleries = [ex.pool, ex.interp_a, ex.interp_b, ex.swap, ex.generate]
            return (*visible, *[g or None for g in galleries], ex.swap_labels)

        example_outputs = [inp.drawing for inp in inputs] + [inp.gallery for inp in inputs] + [swap_labels]
        for trigger in (model.change, app.load):
            filled = trigger(fill_examples, model, example_outputs, api_visibility="private")
            for tab in updates:
                listen(filled.success, tab)
    app.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return app
