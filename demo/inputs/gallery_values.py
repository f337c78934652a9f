"""Gradio gallery values: lists of paths or of (path, caption) pairs, as Gradio's gallery sends and takes them."""
from __future__ import annotations

from typing import Any


def gallery_paths(value: Any) -> list[str]:
    """File paths of a Gradio gallery value: a list of paths or of (path, caption) pairs; None -> []."""
    if not value:
        return []
    paths = []
    for item in value:
        if isinstance(item, (tuple, list)):
            item = item[0]
        if isinstance(item, dict):  # a FileData-like dict
            item = item.get("path") or (item.get("image") or {}).get("path")
        if item:
            paths.append(str(item))
    return paths


def caption_of(item: Any) -> str | None:
    """The caption of a gallery entry (None for a bare path)."""
    if isinstance(item, (tuple, list)) and len(item) > 1:
        return item[1]
    if isinstance(item, dict):
        return item.get("caption")
    return None
