"""Examples in a gallery give way to the user's photos: the first photo a user adds to a gallery that shows the
examples (an upload, a paste, a webcam frame, a drawing) replaces them, so that the user's photos are never pooled
with the examples. The examples carry the caption ``EXAMPLE`` in the gallery, which says what they are.

Gallery values are lists of paths or of (path, caption) pairs, as Gradio's gallery sends and takes them.
"""
from __future__ import annotations

from typing import Any, Sequence

EXAMPLE = "example"  # the caption of every example thumbnail (the note above the tabs says what they are)


def caption_of(item: Any) -> str | None:
    """The caption of a gallery entry (None for a bare path)."""
    if isinstance(item, (tuple, list)) and len(item) > 1:
        return item[1]
    if isinstance(item, dict):
        return item.get("caption")
    return None


def is_example(item: Any) -> bool:
    """True for an entry the demo put there as an example."""
    return caption_of(item) == EXAMPLE


def example_gallery(paths: Sequence[str]) -> list[tuple[str, str]]:
    """A gallery value of example files, each captioned as an example."""
    return [(str(p), EXAMPLE) for p in paths]


def users_entries(value: Any) -> list:
    """The entries of a gallery value that the user added (the examples left out)."""
    return [item for item in (value or []) if not is_example(item)]


def without_examples(value: Any) -> list | None:
    """The gallery after the user's edit: only the user's entries when examples are mixed with them, or None when
    there is nothing to remove (only examples, or only the user's photos)."""
    items = list(value or [])
    own = users_entries(items)
    return own if own and len(own) < len(items) else None
