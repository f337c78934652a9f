"""The demo is built tab by tab: a tab is one module (a ``Tab`` that lays out and wires itself), and a model's
kind is stated, not guessed from its images' channels."""
from __future__ import annotations

from typing import Any

import gradio as gr

from demo.app import build_app
from demo.kinds import DIGITS, FACES, kind_of
from demo.models import ModelRegistry
from demo.tabs import TABS
from demo.tabs.base import Page, Tab, Update
from demo.tabs.components import RESULT, notice_box, photo_input
from mlvae import RunConfig
from mlvae.config import DataConfig, ModelConfig


class EchoTab(Tab):
    """A new tab, all in one class: a gallery in, its first photo out."""

    key, title = "echo", "Echo"

    def layout(self, page: Page) -> None:
        self.photos = [photo_input("echo", lambda kind: "Photos", "echo", page.words_kind)]
        self.notice = notice_box("echo")
        self.image = gr.Image(label="Echo", **RESULT, elem_id="echo-image")

    def wire(self, page: Page) -> None:
        def echo(model_name: str, photos: Any) -> str | None:
            return photos[0][0] if photos else None

        args = [page.model, self.photos[0].gallery]
        page.endpoint(echo, args, self.image, "echo")
        self.update = Update(echo, args, [self.image], self.notice, page.need_photos)
        self.wire_photos(page, self.update)

    def refresh(self, trigger: Any) -> None:
        self.update.follow(trigger)


def test_a_new_tab_is_one_module():
    app = build_app(ModelRegistry(), (*TABS, EchoTab))
    config = app.get_config_file()
    tabs = [c["props"].get("id") for c in config["components"] if c["type"] == "tabitem"]
    assert tabs == ["pool", "interpolate", "swap", "generate", "album", "about", "echo"]
    fns = {fn.api_name: fn for fn in app.fns.values()}
    assert fns["echo"].api_visibility == "public" and fns["echo"].concurrency_id == "model"
    assert {"pool", "interpolate", "interpolate_image", "swap", "generate", "album", "about"} <= set(fns)
    switch = next(fn for fn in app.fns.values() if fn.name == "switch_inputs")  # the new gallery is remembered too
    assert sum(isinstance(block, gr.Gallery) for block in switch.inputs) == 7


def test_a_models_kind_is_its_datasets_not_its_channels():
    mnist = RunConfig(model=ModelConfig(), data=DataConfig(dataset="mnist"))
    assert kind_of(mnist) is DIGITS and DIGITS.takes_drawings and not DIGITS.live_pooling
    folder = RunConfig(model=ModelConfig(architecture="conv"),
                       data=DataConfig(dataset="folder", image_size=64, image_channels=3))
    assert kind_of(folder) is FACES and FACES.live_pooling and not FACES.takes_drawings


def test_a_tabs_result_is_computed_once_for_the_same_inputs_in_a_session():
    from demo.gradio_internals.sessions import in_session
    from demo.tabs.once import OncePerInputs

    now = [0.0]
    once = OncePerInputs(2, repeat_s=60, clock=lambda: now[0])
    computed = []
    update = once(lambda *args: computed.append(args) or ("result", "notice"))
    alice, bob = type("Session", (), {})(), type("Session", (), {})()
    with in_session(alice):
        assert update("mnist", ["a.png"]) == ("result", "notice")
        skipped = update("mnist", ["a.png"])  # the page load's and the gallery's events: one computation
        assert len(skipped) == 2 and all(isinstance(s, dict) and s.get("__type__") == "update" for s in skipped)
        update("faces", ["a.png"])  # another model: computed
        update("mnist", ["a.png"])  # and back: computed again (the page shows the faces result)
    with in_session(bob):
        update("mnist", ["a.png"])  # another session: its own
    now[0] = 61.0
    with in_session(alice):
        update("mnist", ["a.png"])  # a minute later: computed again (results are swept after an hour)
        asked = once.noting(lambda *args: computed.append(args) or ("result", "notice"))
        asked("mnist", ["a.png"])  # the user's click: always computed
        update("mnist", ["a.png"])  # and what follows it with the same inputs is not
    assert len(computed) == 6
