"""The file entries of an event's values, checked before Gradio processes them.

Gradio checks a file entry only when it carries its ``FileData`` marker; one without it reaches the event's
function as a plain path, and a gallery returned by an event (the drawing pad's, a model switch's) is served
to the client. Here every event, private ones included, takes file entries only in inputs that take files, at
most as many as such an input is used for, and only inside this server's upload folders
(``demo.inputs.confinement.not_uploaded``, the confinement ``read_photos`` applies); anything else is refused with a
message naming the file or the input, before Gradio reads or copies a file.

What passes is kept in its canonical form (``canonical``): each file entry reduced to its normalised path, its
name and Gradio's marker, and gallery captions longer than MAX_CAPTION_CHARS dropped (the demo's own are a
word). Gradio keeps every
session's last input values, so a session holds only short, validated values.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from ..computing.computations import MAX_ALBUM, MAX_GROUP
from ..galleries.example_sets import EXAMPLES_DIR
from ..inputs.confinement import not_uploaded
from ..inputs.drawing_files import drawings_folder

MAX_ORIG_NAME_CHARS = 255  # a file's name as the client gave it (a file system's limit)
MAX_CAPTION_CHARS = 64  # a gallery caption the demo keeps (its own are "example"); longer ones are dropped
# input type -> the file entries it takes (an image input: the webcam's live frames)
FILE_INPUTS = {gr.Gallery: MAX_GROUP, gr.Image: 1}
GALLERY_FILES = {"album-photos": MAX_ALBUM}  # a gallery's elem_id -> the files it takes, where not MAX_GROUP


def file_entries(value: Any) -> Iterator[dict]:
    """The file entries (dicts with a ``path``) of a nested value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "path" in item:
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def files_taken(block: Any) -> int:
    """How many file entries an input takes (0: none)."""
    if isinstance(block, gr.Gallery) and block.elem_id in GALLERY_FILES:
        return GALLERY_FILES[block.elem_id]
    return next((limit for kind, limit in FILE_INPUTS.items() if isinstance(block, kind)), 0)


def file_problem(block: Any, value: Any, what: str, allowed: Sequence[Path]) -> str | None:
    """What is wrong with the file entries of a value sent for ``block`` (named ``what`` in the message), or
    None."""
    entries = list(file_entries(value))
    if not entries:
        return None
    limit = files_taken(block)
    if limit == 0:
        return f"{what} takes no files, but the request sent {len(entries)}"
    if len(entries) > limit:
        return f"{what} takes at most {limit} files, but the request sent {len(entries)}"
    for entry in entries:
        path = entry["path"]
        if not isinstance(path, str):
            return f"{what} holds a file entry whose path is not a string"
        refused = not_uploaded(path, allowed)
        if refused:
            return refused
    return None


def canonical_entry(entry: dict) -> dict:
    """A checked file entry reduced to what the demo needs: its normalised path, its name and Gradio's marker."""
    kept = {"path": os.path.normpath(entry["path"])}
    name = entry.get("orig_name")
    if isinstance(name, str) and len(name) <= MAX_ORIG_NAME_CHARS:
        kept["orig_name"] = name
    if isinstance(entry.get("meta"), dict) and entry["meta"].get("_type") == "gradio.FileData":
        kept["meta"] = {"_type": "gradio.FileData"}
    return kept


def short_caption(caption: Any) -> str | None:
    """A gallery caption kept when it is a short text (the demo's own say "example"), else None."""
    return caption if isinstance(caption, str) and len(caption) <= MAX_CAPTION_CHARS else None


def canonical(block: Any, value: Any) -> Any:
    """A checked value with its file entries in canonical form and, for a gallery, only short captions."""
    if isinstance(value, dict):
        if "path" in value:
            return canonical_entry(value)
        return {key: (short_caption(item) if key == "caption" and isinstance(block, gr.Gallery)
                      else canonical(block, item)) for key, item in value.items()}
    if isinstance(value, list):
        return [canonical(block, item) for item in value]
    return value


def upload_folders() -> list[Path]:
    """The folders a request's files may lie in: Gradio's upload folder (uploads, and the examples and
    drawings it copies there) and the demo's own drawings and examples."""
    from gradio.utils import get_upload_folder

    return [Path(get_upload_folder()).resolve(), drawings_folder().resolve(), EXAMPLES_DIR.resolve()]
