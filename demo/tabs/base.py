"""A tab of the demo as one unit: it lays out its components and wires its own events (its API endpoint, its
result updates, its inputs' edits and drawings), on the ``Page`` that every tab shares. ``demo.app`` lays out
the tabs of ``demo.tabs.TABS`` in order and joins them only where a model switch or the page load touches all."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gradio as gr

from ..computing.endpoints import Endpoints
from ..computing.guard import guarded
from ..galleries.example_edits import users_entries, without_examples
from ..inputs import pad_drawings
from ..kinds import FACES, Kind
from ..models import ModelRegistry
from . import notices
from .components import PhotoInput
from .once import OncePerInputs

# Gradio limits concurrency per event listener; every event that runs a model shares this one queue, so that
# CONCURRENCY is the limit for the whole app, not for each of its dozen listeners. (A lane per kind of model, so
# that digits requests need not wait behind faces ones, was measured under 16 clients and made the p95 worse: the
# time goes to Gradio's event loop and the CPU, not to the order of the queue.)
MODEL_QUEUE = dict(concurrency_id="model")
LIVE = dict(trigger_mode="always_last", show_progress="minimal", **MODEL_QUEUE)
PRIVATE = dict(api_visibility="private")


@dataclass
class Header:
    """The parts above the tabs that events update: the shortfall line and its button to the model card, and the
    note on the examples."""

    shortfall_row: gr.Row
    shortfall: gr.Markdown
    to_card: gr.Button
    examples_note: gr.Markdown


@dataclass
class Page:
    """What every tab builds on: the models and their endpoints, the model picker, the kind of the model shown
    first (None: no model loaded), and the page's parts above and around the tabs."""

    registry: ModelRegistry
    endpoints: Endpoints
    model: gr.Dropdown
    kind: Kind | None
    header: Header | None = None  # the page above the tabs, laid out first
    tabs: gr.Tabs | None = None
    api: gr.Button | None = None  # the hidden trigger of the named API endpoints, made after the tabs
    all_tabs: list[Tab] = field(default_factory=list)  # every tab of the page, for a tab that fills another's inputs

    @property
    def words_kind(self) -> Kind:
        """The kind whose words the page shows first (faces when no model is loaded)."""
        return self.kind or FACES

    def kind_of(self, model_name: str | None) -> Kind | None:
        """The kind of the model called ``model_name`` (None when there is none)."""
        m = self.registry.models.get(model_name)
        return m.kind if m else None

    def endpoint(self, fn: Callable, inputs: Sequence[Any], outputs: Any, api_name: str) -> None:
        """A named API endpoint (``/api_name``), its errors as gr.Error, in the model queue."""
        assert self.api is not None, "the API trigger is made after the tabs are laid out"
        self.api.click(guarded(fn), list(inputs), outputs, api_name=api_name, **MODEL_QUEUE)

    def add_first(self, model_name: str | None) -> str:
        """What a tab with no input says, in the words of the model's kind."""
        return (self.kind_of(model_name) or FACES).words.add_first

    def need_photos(self, model_name: str | None, photos: Any, *rest: Any) -> str | None:
        """The missing-input check of a tab of one gallery: a reason when it is empty."""
        return None if photos else self.add_first(model_name)


@dataclass
class Update:
    """A tab's result update in the page: ``fn`` on ``inputs`` into ``outputs``, the problems of its last run in
    ``notice`` (``demo.tabs.notices``), nothing computed while ``missing`` names a reason."""

    fn: Callable
    inputs: list[Any]
    outputs: list[Any]
    notice: gr.Markdown
    missing: notices.Missing = lambda *args: None

    def __post_init__(self) -> None:
        self.once = OncePerInputs(len(self.outputs) + 1)  # shared by all its triggers (demo.tabs.once)

    def listen(self, *triggers: Callable) -> None:
        """Run the update on each of ``triggers``, the user's requests (``button.click``, ``slider.input``, ...)."""
        self._on(self.once.noting, triggers)

    def follow(self, *triggers: Callable) -> None:
        """Run the update on each of ``triggers`` that follow another event (the page's load, a model switch, a
        gallery's change), unless it has just computed the same inputs (``demo.tabs.once``)."""
        self._on(self.once, triggers)

    def _on(self, once: Callable[[Callable], Callable], triggers: Sequence[Callable]) -> None:
        """Run the update, wrapped by ``once``, on each of ``triggers``."""
        fn = once(notices.with_notice(guarded(self.fn), len(self.outputs), self.missing))
        outputs = [*self.outputs, self.notice]
        if len(triggers) == 1:
            triggers[0](fn, self.inputs, outputs, **PRIVATE, **LIVE)
        else:
            gr.on(list(triggers), fn, self.inputs, outputs, **PRIVATE, **LIVE)


class Tab:
    """One tab: its ``key`` (the tab's id), its ``title``; ``layout`` builds it inside its ``gr.Tab``, ``wire``
    adds its events, ``refresh`` recomputes its result when the page loads or the model changes."""

    key: ClassVar[str]
    title: ClassVar[str]

    def __init__(self) -> None:
        self.photos: list[PhotoInput] = []

    def layout(self, page: Page) -> None:
        """Build the tab's components (inside its ``gr.Tab``)."""
        raise NotImplementedError

    def wire(self, page: Page) -> None:
        """Add the tab's events: its API endpoints, result updates, and its photo inputs' edits and drawings."""

    def refresh(self, trigger: Callable) -> None:
        """Recompute the tab's result on ``trigger`` (the page's load, a model switch)."""

    def remembered(self) -> dict[str, Any]:
        """The inputs each kind of model keeps (``demo.galleries.memory``), by key: its galleries by default."""
        return {p.key: p.gallery for p in self.photos}

    def for_kind(self, kind: Kind | None) -> dict[Any, Any]:
        """The tab's updates for a model of ``kind`` (None: no model): labels, intros, the drawing pads."""
        updates: dict[Any, Any] = {}
        for p in self.photos:
            updates.update(p.for_kind(kind))
        return updates

    def wire_photos(self, page: Page, update: Update) -> None:
        """Each photo input's drawing pad, and its edits (the first photo added to examples replaces them), each
        edit followed by ``update``."""
        for p in self.photos:
            wire_drawing(page, p)
            update.follow(wire_edits(page, p).then)


def wire_edits(page: Page, p: PhotoInput) -> Any:
    """The gallery's edits: the user's own photos replace the examples (``demo.galleries.example_edits``); the
    event, for an update to follow.

    Gallery.change fires on the user's edits (and when a tab first shows its gallery), and on updates made by
    functions too (examples, drawings, a model switch)."""
    allowed = page.endpoints.allowed

    def own_photos(gallery: Any) -> Any:
        """Only the user's photos when they were added to examples; else no change."""
        kept = without_examples(gallery, allowed)
        return gr.skip() if kept is None else kept

    return p.gallery.change(own_photos, p.gallery, p.gallery, show_progress="hidden", queue=False, **PRIVATE)


def wire_drawing(page: Page, p: PhotoInput) -> None:
    """The pad's Add button: the drawing joins the gallery (replacing examples), and the pad is blank again.

    (The gallery's change event then updates the tab: Gradio 6 fires it for a function's update too; a second
    update chained here computed every drawing's result twice.)"""
    allowed = page.endpoints.allowed

    def add_drawing(pad_value: Any, gallery: Any) -> tuple[list[str], str]:
        """The gallery (without examples) with the pad's drawing added, and a blank pad."""
        return pad_drawings.add_drawing(pad_value, users_entries(gallery, allowed))

    p.add.click(guarded(add_drawing), [p.pad, p.gallery], [p.gallery, p.pad], show_progress="hidden", **PRIVATE)
