"""The drawing pad: a ``gr.Sketchpad`` whose payloads Gradio never decodes.

Gradio's ImageEditor opens the background, the composite and every layer of a payload itself, with any PIL
plugin and no size check, and keeps the blobs its page sends in memory without a bound. The pad built here
keeps only the composite (at most ``MAX_DRAWING_BYTES``; at most ``MAX_PENDING`` blobs waiting for their event)
and decodes it with the demo's image checks (``demo.drawings``); the background and the layers are ignored.
The event's function gets ``{"background": None, "layers": [], "composite": RGBA image or None}``.
"""
from __future__ import annotations

import threading
import types
from collections import OrderedDict
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.components.base import server
from gradio.components.image_editor import AcceptBlobs, EditorData

from mlvae import DataError

from .drawings import MAX_DRAWING_BYTES, decode_drawing

MAX_PENDING = 64  # composites sent by pages and not yet used by an event; the oldest are dropped
TOO_LARGE = f"The drawing is larger than a 280 x 280 pad makes (over {MAX_DRAWING_BYTES >> 20} MB); clear it and draw again."


def drawing_pad(**options: Any) -> gr.Sketchpad:
    """A ``gr.Sketchpad(**options)`` whose value reaches the event's function with only its composite, checked."""
    pad = gr.Sketchpad(**options)
    pad.blob_storage = OrderedDict()
    pad._pending_lock = threading.Lock()
    pad.preprocess = types.MethodType(_composite, pad)
    pad.accept_blobs = types.MethodType(_keep_composite, pad)
    return pad


def _composite(pad: gr.Sketchpad, payload: EditorData | None) -> dict[str, Any] | None:
    """The payload's composite decoded with the demo's checks: the blob the page sent, or the uploaded file an
    API client named; gr.Error naming the problem."""
    if payload is None:
        return None
    data = None
    if payload.id is not None:
        with pad._pending_lock:
            data = pad.blob_storage.pop(payload.id, None)
    elif payload.composite is not None:
        path = Path(payload.composite.path)  # Gradio has checked that it lies in its upload folder
        if path.stat().st_size > MAX_DRAWING_BYTES:
            raise gr.Error(TOO_LARGE)
        data = path.read_bytes()
    try:
        composite = decode_drawing(data) if data else None
    except DataError as exc:
        raise gr.Error(str(exc)) from None
    return {"background": None, "layers": [], "composite": composite}


@server
def _keep_composite(pad: gr.Sketchpad, data: AcceptBlobs) -> None:
    """Keep the composite blob a page sends (bounded in size and number); drop backgrounds and layers."""
    if data.data.get("type") != "composite" or not data.files:
        return
    blob = data.files[0][1]
    if len(blob) > MAX_DRAWING_BYTES:
        raise gr.Error(TOO_LARGE)
    with pad._pending_lock:
        pad.blob_storage[str(data.data.get("id"))] = blob
        while len(pad.blob_storage) > MAX_PENDING:
            pad.blob_storage.popitem(last=False)
