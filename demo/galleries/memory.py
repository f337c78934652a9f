"""Each kind of model keeps its own inputs: switching models puts the tabs' inputs away under the kind shown and
brings back the new kind's (its examples only until the user first changed them). Two models of one kind share
the inputs, prepared anew for the new model by each request.

The memory is a plain dict (a per-session ``gr.State``): kind -> {"galleries": [...], "labels": str}. It keeps
only short, checked values: each gallery's paths (at most MAX_GROUP, inside the upload folders: every event's
files are checked, ``demo.request_files``) and the labels (at most MAX_LABEL_CHARS).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from .computations import MAX_GROUP
from .example_sets import ExampleSet, example_set
from .gallery_edits import example_gallery
from .inputs import gallery_paths
from .request_guard import MAX_STRING_CHARS as MAX_LABEL_CHARS

Memory = dict[str, dict[str, Any]]


def examples_of(kind: str | None) -> tuple[list[list[tuple[str, str]]], str]:
    """The example galleries (pool, A, B, swap, generate), captioned as examples, and swap labels of a kind; empty
    for no model."""
    ex = example_set(kind) if kind else ExampleSet()
    return [example_gallery(g) for g in (ex.pool, ex.interp_a, ex.interp_b, ex.swap, ex.generate)], ex.swap_labels


def switch(memory: Memory | None, shown: str | None, new: str | None, galleries: Sequence[Any],
           labels: str | None) -> tuple[Memory, list[Any], str]:
    """Put away the inputs shown for kind ``shown``; the new memory and kind ``new``'s galleries and labels."""
    memory = dict(memory or {})
    if shown:
        memory[shown] = {"galleries": [gallery_paths(g)[:MAX_GROUP] for g in galleries],
                         "labels": (labels or "")[:MAX_LABEL_CHARS]}
    if new in memory:
        kept = memory[new]
        return memory, [list(g) for g in kept["galleries"]], kept["labels"]
    new_galleries, new_labels = examples_of(new)
    return memory, new_galleries, new_labels


def labels_after_edit(kind: str | None, gallery: Any, labels: str | None) -> str:
    """The swap tab's group labels after its photos changed: none for no photos, the examples' labels only while
    the photos are the examples (Gradio serves copies under the same names), and labels the user typed kept."""
    if not gallery:
        return ""
    galleries, example_labels = examples_of(kind)
    names = lambda paths: [Path(p).name for p in paths]  # noqa: E731
    if example_labels and (labels or "") == example_labels and names(gallery_paths(gallery)) != names(gallery_paths(galleries[3])):
        return ""
    return labels or ""
