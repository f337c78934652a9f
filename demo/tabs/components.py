"""The components several tabs lay out: a gallery of input photos with its drawing pad, a tab's notice, a result
image, the variance chart."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..kinds import FACES, Kind
from .drawing_pad import drawing_pad

RESULT = dict(type="filepath", show_label=False, elem_classes="result", buttons=["download", "fullscreen"],
              interactive=False)
WIDE_RESULT = {**RESULT, "elem_classes": ["result", "wide"]}  # a grid: on a narrow screen, wider than it


@dataclass
class PhotoInput:
    """A gallery of input photos, plus a drawing pad (digit models only) that adds to it; ``key`` names its value
    in the examples and the per-kind memory (``demo.galleries``), ``label`` its label for a kind of model."""

    key: str
    label: Callable[[Kind], str]
    gallery: gr.Gallery
    drawing: gr.Accordion
    pad: gr.HTML
    add: gr.Button

    def for_kind(self, kind: Kind | None) -> dict[Any, Any]:
        """The updates a switch to a model of ``kind`` makes (None: no model, with the faces' words)."""
        return {self.drawing: gr.update(visible=bool(kind and kind.takes_drawings)),
                self.gallery: gr.update(label=self.label(kind or FACES))}


def photo_input(key: str, label: Callable[[Kind], str], elem_key: str, kind: Kind) -> PhotoInput:
    """Build one photo input: upload, webcam or paste into the gallery; draw into it for digit models."""
    gallery = gr.Gallery(
        label=label(kind), type="filepath", interactive=True, sources=["upload", "webcam", "clipboard"],
        columns=8, fit_columns=False, height=200, object_fit="contain", elem_id=f"{elem_key}-photos",
        elem_classes="photos",
    )
    with gr.Accordion("Draw a digit", open=False, visible=kind.takes_drawings) as drawing:
        gr.Markdown("Draw one digit (with a mouse, a pen or a finger), then add it to the photos; the pad is then "
                    "ready for the next.")
        sketch = drawing_pad(f"{elem_key}-pad")
        add = gr.Button("Add the drawing to the photos", size="sm")
    return PhotoInput(key, label, gallery, drawing, sketch, add)


def notice_box(key: str) -> gr.Markdown:
    """A tab's notice: what its last update could not use, until its next update (``demo.tabs.notices``)."""
    return gr.Markdown(visible=False, elem_id=f"{key}-notice", elem_classes="notice", label="Notice")


def variance_chart(label: str, key: str, most: int, x_title: str = "photos pooled") -> gr.LinePlot:
    """A chart of the mean content variance against the number of photos pooled (up to ``most``, given as text:
    whole-number ticks)."""
    order = [str(k) for k in range(1, most + 1)]  # 1, 2, ..., 10, not 1, 10, 2
    return gr.LinePlot(x="photos", y="variance", label=label, x_title=x_title, y_title="mean content variance",
                       height=300, elem_id=key, sort=order)
