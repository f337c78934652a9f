"""The drawing pad: a ``gr.Sketchpad`` whose payloads Gradio never decodes.

Gradio's ImageEditor opens the background, the composite and every layer of a payload itself, with any PIL
plugin and no size check, and keeps the blobs its page sends in memory without a bound. The pad built here
keeps only the composite (at most ``MAX_DRAWING_BYTES``) and decodes it with the demo's image checks
(``demo.inputs.drawing_files``); the background and the layers are ignored. The event's function gets
``{"background": None, "layers": [], "composite": RGBA image or None}``.

Composites wait for their event per session (``PendingBlobs``): a page's blob is claimed only by an event of
the same session, so one client's flood of blobs drops its own, never another user's pending drawing.
"""
from __future__ import annotations

import threading
import types
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.components.base import server
from gradio.components.image_editor import AcceptBlobs, EditorData

from mlvae import DataError

from ..inputs.drawing_files import MAX_DRAWING_BYTES, decode_drawing
from .sessions import current_session

MAX_PENDING = 64  # composites sent by pages and not yet used by an event, in all sessions
MAX_PENDING_PER_SESSION = 8  # ... and in one session (a page has five pads); a session's oldest is dropped first
TOO_LARGE = (f"The drawing is larger than a 280 x 280 pad makes (over {MAX_DRAWING_BYTES >> 20} MB); clear it and "
             "draw again.")


class PendingBlobs:
    """Composite blobs waiting for their event, per session (sessions forgotten by Gradio drop theirs): at most
    MAX_PENDING_PER_SESSION in a session and MAX_PENDING in all, the session holding most losing its oldest."""

    def __init__(self, per_session: int = MAX_PENDING_PER_SESSION, total: int = MAX_PENDING) -> None:
        self.per_session, self.total = per_session, total
        self._sessions: weakref.WeakKeyDictionary[object, OrderedDict[str, bytes]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def put(self, session: object, blob_id: str, blob: bytes) -> None:
        """Keep ``blob`` for ``session`` under ``blob_id``, dropping the oldest over the limits."""
        with self._lock:
            mine = self._sessions.setdefault(session, OrderedDict())
            mine[blob_id] = blob
            while len(mine) > self.per_session:
                mine.popitem(last=False)
            while sum(len(blobs) for blobs in self._sessions.values()) > self.total:
                fullest = max(self._sessions.values(), key=len)
                fullest.popitem(last=False)

    def pop(self, session: object, blob_id: str) -> bytes | None:
        """The blob ``session`` sent under ``blob_id`` (removed), or None."""
        with self._lock:
            mine = self._sessions.get(session)
            return mine.pop(blob_id, None) if mine is not None else None

    def __len__(self) -> int:
        with self._lock:
            return sum(len(blobs) for blobs in self._sessions.values())


def drawing_pad(**options: Any) -> gr.Sketchpad:
    """A ``gr.Sketchpad(**options)`` whose value reaches the event's function with only its composite, checked."""
    pad = gr.Sketchpad(**options)
    pad.blob_storage = {}  # Gradio's own store, unused: the pad's blobs wait in ``pending``
    pad.pending = PendingBlobs()
    pad.preprocess = types.MethodType(_composite, pad)
    pad.accept_blobs = types.MethodType(_keep_composite, pad)
    return pad


def _composite(pad: gr.Sketchpad, payload: EditorData | None) -> dict[str, Any] | None:
    """The payload's composite decoded with the demo's checks: the blob this session's page sent, or the
    uploaded file an API client named; gr.Error naming the problem."""
    if payload is None:
        return None
    data = None
    if payload.id is not None:
        data = pad.pending.pop(current_session(), str(payload.id))
    elif payload.composite is not None:
        path = Path(payload.composite.path)  # it lies in the upload folders (demo.gradio_internals.request_files)
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
    """Keep the composite blob a page sends, for its session (bounded in size and number); drop backgrounds and
    layers."""
    if data.data.get("type") != "composite" or not data.files:
        return
    blob = data.files[0][1]
    if len(blob) > MAX_DRAWING_BYTES:
        raise gr.Error(TOO_LARGE)
    pad.pending.put(current_session(), str(data.data.get("id")), blob)
