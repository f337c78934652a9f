"""Each kind of model keeps its own inputs: switching models puts the tabs' inputs away under the kind shown and
brings back the new kind's (its examples only until the user first changed them). Two models of one kind share
the inputs, prepared anew for the new model by each request.

The memory is a plain dict (a per-session ``gr.State``): kind -> {input key: value}, the keys those of
``ExampleSet`` (each tab names the inputs it remembers). It keeps only short, checked values: each gallery's paths
(at most MAX_GROUP, the album's MAX_ALBUM, inside the upload folders: every event's files are checked,
``demo.gradio_internals.request_files``) and texts (at most MAX_LABEL_CHARS). A path is kept once for the whole
process (``shared_path``): every session that remembers an upload holds a reference to one string, not a copy.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..computing.computations import MAX_ALBUM, MAX_GROUP
from ..inputs.gallery_values import gallery_paths
from .example_edits import example_gallery
from .example_sets import ExampleSet, example_set

Memory = dict[str, dict[str, Any]]
MAX_SHARED_PATHS = 65_536  # paths kept for sharing (~300 bytes each), the least recently used dropped first
_paths: OrderedDict[str, str] = OrderedDict()
_paths_lock = threading.Lock()
MAX_LABEL_CHARS = 4096  # a text the memory keeps (64 group labels of up to 60 characters); a longer one is not kept
TEXT_KEYS = {key for key, value in asdict(ExampleSet()).items() if isinstance(value, str)}  # the others: galleries


def examples_of(kind: str | None) -> dict[str, Any]:
    """Every remembered input's example value for a kind, by key: galleries captioned as examples, texts as they
    are; empty for no model."""
    ex = asdict(example_set(kind) if kind else ExampleSet())
    return {key: value if isinstance(value, str) else example_gallery(value) for key, value in ex.items()}


def kept(key: str, value: Any) -> Any:
    """What the memory keeps of input ``key``'s value: a short text (a long one is dropped, not cut: labels are
    counted), a gallery's first paths."""
    if key in TEXT_KEYS:
        return value if isinstance(value, str) and len(value) <= MAX_LABEL_CHARS else ""
    return [shared_path(path) for path in gallery_paths(value)[:MAX_ALBUM if key == "album" else MAX_GROUP]]


def shared_path(path: str) -> str:
    """The one string of the process equal to ``path`` (``path`` itself the first time)."""
    with _paths_lock:
        kept = _paths.pop(path, path)
        _paths[path] = kept
        if len(_paths) > MAX_SHARED_PATHS:
            _paths.popitem(last=False)
    return kept


def switch(memory: Memory | None, shown: str | None, new: str | None,
           values: Mapping[str, Any]) -> tuple[Memory, dict[str, Any]]:
    """Put away the input ``values`` shown for kind ``shown``; the new memory and kind ``new``'s values (by key)."""
    memory = dict(memory or {})
    if shown:
        memory[shown] = {key: kept(key, value) for key, value in values.items()}
    if new in memory:
        return memory, {key: list(v) if isinstance(v, list) else v for key, v in memory[new].items()}
    examples = examples_of(new)
    return memory, {key: examples.get(key, kept(key, None)) for key in values}


def labels_after_edit(kind: str | None, gallery: Any, labels: str | None) -> str:
    """The swap tab's group labels after its photos changed: none for no photos, the examples' labels only while
    the photos are the examples (Gradio serves copies under the same names), and labels the user typed kept."""
    if not gallery:
        return ""
    examples = examples_of(kind)
    names = lambda paths: [Path(p).name for p in paths]  # noqa: E731
    example_labels = examples.get("swap_labels", "")
    if example_labels and (labels or "") == example_labels and \
            names(gallery_paths(gallery)) != names(gallery_paths(examples["swap"])):
        return ""
    return labels or ""
