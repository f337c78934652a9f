"""The Gradio interface: a model picker and the tabs of ``demo.tabs`` (Pool evidence, Interpolate, Swap grid,
Generate, About), each laying out and wiring itself; here, the page around them, the launch options and what
touches every tab at once: a model switch (each kind of model keeps its own inputs) and the page's load.

Every tab has a named API endpoint (``/pool``, ``/interpolate``, ``/interpolate_image``, ``/swap``,
``/generate``, ``/about``) that ``gradio_client`` can call with the model's name and image files.
"""
from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from .computing.endpoints import Endpoints
from .computing.guard import CONCURRENCY
from .galleries.example_sets import EXAMPLES_DIR
from .galleries.memory import switch
from .gradio_internals.blocks import DemoBlocks
from .gradio_internals.fair_use import FairUse
from .gradio_internals.live_streams import LiveStreamSweep
from .gradio_internals.page_style import CSS, PAGE_SCRIPT, SOURCE_LABELS
from .gradio_internals.request_files import upload_folders
from .gradio_internals.request_limits import RequestLimits
from .gradio_internals.session_admission import MAX_SESSIONS
from .kinds import FACES
from .models import ModelRegistry, no_model_message
from .tabs import TABS, Tab, notices
from .tabs.base import PRIVATE, Header, Page

__all__ = ["CONCURRENCY", "MAX_SESSIONS", "QUEUE_SIZE", "build_app", "launch_options"]

UPLOAD_LIMIT = "64mb"  # per uploaded file, as Gradio takes it: a larger one makes the page drop the whole upload,
# so this is well above the limit of a photo (demo.inputs.preparation.MAX_PHOTO_BYTES), which refuses one by name
TORCH_THREADS = 1  # per process: one core per concurrent request; more threads oversubscribe a small CPU
QUEUE_SIZE = 64  # waiting requests beyond this are turned away with a message

INTRO = """# ML-VAE: pool, swap, interpolate
The **Multi-Level VAE** (Bouchacourt, Tomioka & Nowozin, AAAI 2018) splits each image into a **style** of its
own and a **content** shared by its group (a person's identity, a digit's class), and pools the content
evidence of several images of one group. Pick a model, then drop in photos (or draw digits)."""


def launch_options() -> dict[str, Any]:
    """Keyword arguments of ``Blocks.launch`` that the demo needs (uploads, offline, theme)."""
    return dict(
        max_file_size=UPLOAD_LIMIT,
        i18n=gr.I18n(en=SOURCE_LABELS),
        ssr_mode=False,  # no Node server: starts fast and works offline
        show_error=False,  # an unexpected error's text stays in the log; the demo's own messages are gr.Error
        # oversized requests refused before Gradio reads them, then fair use per client; live streams that stopped
        # sending ended
        app_kwargs=dict(middleware=[Middleware(RequestLimits), Middleware(FairUse), Middleware(LiveStreamSweep)]),
        allowed_paths=[str(EXAMPLES_DIR)],
        state_session_capacity=MAX_SESSIONS,
        theme=gr.themes.Soft(
            font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
        ),  # system fonts: no font download
        css=CSS,
        head=PAGE_SCRIPT,  # refused photos marked where they are shown
    )


def header(page: Page) -> Header:
    """The page above the tabs: the introduction, models not loaded, the picker, its shortfall line and the note on
    the examples."""
    registry, endpoints, default = page.registry, page.endpoints, page.registry.default
    problems = ([] if registry.models else [no_model_message()]) + registry.problems
    gr.Markdown("\n\n".join(f"**Note:** {html.escape(p)}" for p in problems), visible=bool(problems),
                elem_classes="problem")
    page.model.render()
    shortfall = endpoints.shortfall(default)
    with gr.Row(elem_classes="shortfall-row", visible=bool(shortfall)) as shortfall_row:
        line = gr.Markdown(shortfall, elem_id="shortfall", scale=6, min_width=320)
        to_card = gr.Button("Read the model card", size="sm", variant="secondary", elem_id="to-card", scale=0,
                            min_width=160)
    note = gr.Markdown(page.words_kind.words.examples_note, elem_id="examples-note", elem_classes="examples-note")
    return Header(shortfall_row, line, to_card, note)


def wire_kind_switch(app: gr.Blocks, page: Page, tabs: Sequence[Tab]) -> None:
    """A model switch puts each kind's inputs away and brings the new kind's back (``demo.galleries.memory``),
    with its words; the page's load fills in the examples. Both are followed by every tab's refresh."""
    memory, shown = gr.State({}), gr.State(page.kind.name if page.kind else None)
    remembered = {key: c for tab in tabs for key, c in tab.remembered().items()}
    keys = sorted(remembered, key=lambda key: not isinstance(remembered[key], gr.Gallery))  # the galleries first
    assert page.header is not None
    examples_note = page.header.examples_note
    kind_parts = [examples_note, *[c for tab in tabs for c in tab.for_kind(FACES)]]
    outputs = list(dict.fromkeys([memory, shown, *[remembered[key] for key in keys], *kind_parts]))  # each once

    def switch_inputs(model_name: str | None, kept: Any, shown_kind: str | None, *values: Any) -> dict[Any, Any]:
        """The new kind's inputs (its examples until first changed) and words; the shown kind's put away."""
        kind = page.kind_of(model_name)
        name = kind.name if kind else None
        new_memory, new_values = switch(kept, shown_kind, name, dict(zip(keys, values, strict=False)))
        updates: dict[Any, Any] = {memory: new_memory, shown: name,
                                   examples_note: (kind or FACES).words.examples_note}
        for tab in tabs:
            updates.update(tab.for_kind(kind))
        for key in keys:
            component = remembered[key]
            updates[component] = {**updates.get(component, {}), **gr.update(value=new_values[key] or None)} \
                if isinstance(component, gr.Gallery) else new_values[key]
        return updates

    def fill_examples(model_name: str | None) -> dict[Any, Any]:
        """The page's first inputs: the examples of the selected model's kind."""
        return switch_inputs(model_name, {}, None, *([None] * len(keys)))

    switched = page.model.change(switch_inputs, [page.model, memory, shown, *[remembered[k] for k in keys]],
                                 outputs, **PRIVATE)
    loaded = app.load(fill_examples, page.model, outputs, **PRIVATE)
    for tab in tabs:
        tab.refresh(switched.success)
        tab.refresh(loaded.success)


def build_app(registry: ModelRegistry, tab_types: Sequence[type[Tab]] = TABS) -> gr.Blocks:
    """The whole demo as a queued ``gr.Blocks``; launch it with ``app.launch(**launch_options())``."""
    default = registry.default
    endpoints = Endpoints(registry, warn=notices.warn, allowed=upload_folders())
    model = gr.Dropdown(
        choices=registry.choices(), value=default, label="Model", interactive=bool(registry.models),
        info="Shipped checkpoints, plus any given with --model or $MLVAE_MODELS", elem_id="model", render=False,
    )
    page = Page(registry, endpoints, model, registry.get(default).kind if default is not None else None)
    tabs = [tab_type() for tab_type in tab_types]
    page.all_tabs = tabs
    with DemoBlocks(title="ML-VAE demo: pool, swap, interpolate", delete_cache=(3600, 3600)) as app:  # uploads: 1 h
        gr.Markdown(INTRO, elem_classes="intro")
        page.header = header(page)
        with gr.Tabs(overflow_behavior="wrap") as page.tabs:  # a narrow screen shows every tab, in two rows
            for tab in tabs:
                with gr.Tab(tab.title, id=tab.key):
                    tab.layout(page)
        page.api = gr.Button(visible=False)  # the named API endpoints' trigger (the UI's own events are private)
        for tab in tabs:
            tab.wire(page)
        wire_kind_switch(app, page, tabs)
    app.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return app
