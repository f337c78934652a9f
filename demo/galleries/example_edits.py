"""Examples in a gallery give way to the user's photos: the first photo a user adds to a gallery that shows the
examples (an upload, a paste, a webcam frame, a drawing) replaces them, so that the user's photos are never pooled
with the examples. The examples carry the caption ``EXAMPLE`` in the gallery, which says what they are.

Gradio's page does not always send the captions back, so an entry is also known as an example by its content: a
file in the server's upload folders with the name and the bytes of one of the demo's examples.
Gallery values are lists of paths or of (path, caption) pairs, as Gradio's gallery sends and takes them.
"""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..inputs.confinement import is_inside
from ..inputs.gallery_values import caption_of, gallery_paths
from .example_sets import EXAMPLES_DIR

EXAMPLE = "example"  # the caption of every example thumbnail (the note above the tabs says what they are)
MAX_EXAMPLE_BYTES = 1 << 20  # an example is a small PNG: larger files are never read to compare


@functools.lru_cache(maxsize=1)
def example_digests(root: Path = EXAMPLES_DIR) -> dict[str, str]:
    """File name -> SHA-256 of the content, for every example image under ``root``."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.glob("*/*.png")}


def is_example(item: Any, allowed: Sequence[Path] = ()) -> bool:
    """True for an entry the demo put there as an example: captioned so, or a copy of an example's file lying in
    one of the ``allowed`` folders (a file elsewhere is never read)."""
    if caption_of(item) == EXAMPLE:
        return True
    paths = gallery_paths([item])
    if not paths or Path(paths[0]).name not in example_digests() or not is_inside(paths[0], allowed):
        return False
    try:
        path = Path(paths[0])
        if path.stat().st_size > MAX_EXAMPLE_BYTES:
            return False
        return hashlib.sha256(path.read_bytes()).hexdigest() == example_digests()[path.name]
    except (OSError, ValueError):
        return False


def example_gallery(paths: Sequence[str]) -> list[tuple[str, str]]:
    """A gallery value of example files, each captioned as an example."""
    return [(str(p), EXAMPLE) for p in paths]


def users_entries(value: Any, allowed: Sequence[Path] = ()) -> list:
    """The entries of a gallery value that the user added (the examples left out)."""
    return [item for item in (value or []) if not is_example(item, allowed)]


def without_examples(value: Any, allowed: Sequence[Path] = ()) -> list | None:
    """The gallery after the user's edit: only the user's entries when examples are mixed with them, or None when
    there is nothing to remove (only examples, or only the user's photos)."""
    items = list(value or [])
    own = users_entries(items, allowed)
    return own if own and len(own) < len(items) else None
