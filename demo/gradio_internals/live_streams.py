"""Live streams that stopped sending are ended: a webcam stream holds one of the live pooling's places
(``demo.tabs.live.LIVE_STREAMS``) for its whole time limit, and Gradio waits that long for the next frame of a page
that was closed or lost its connection. ``LiveStreamSweep`` (an ASGI middleware, ``demo.app.launch_options``) notes
when each stream last sent a frame (``/gradio_api/stream/<event>``) and, on any request, ends the streams silent
for ``IDLE_S`` the way the page's Stop button does (Gradio's ``/stream/<event>/close``), freeing their places.
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

IDLE_S = 10.0  # a stream that sent no frame for this long is ended (the page sends one every 0.25 s)
SWEEP_EVERY_S = 1.0  # streams are looked over at most this often
LIVE_QUEUE = "live"  # the concurrency id of the live pooling's stream (demo.tabs.live)
CHUNK = re.compile(r"/gradio_api/stream/([^/]{1,128})/?$")
Scope = dict[str, Any]


class LiveStreamSweep:
    """ASGI middleware: note each live stream's last frame; end the streams that went silent."""

    def __init__(self, app: Callable, idle_s: float = IDLE_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.app, self.idle_s, self.clock = app, idle_s, clock
        self.last_frame: dict[str, float] = {}  # event id -> when its last frame came
        self.swept = 0.0

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        """Note a frame, sweep (at most every SWEEP_EVERY_S), pass the request on."""
        if scope["type"] == "http":
            now = self.clock()
            chunk = CHUNK.search(scope.get("path", ""))
            if chunk:
                self.last_frame[chunk.group(1)] = now
            if now - self.swept >= SWEEP_EVERY_S:
                self.swept = now
                self.sweep(scope.get("app"), now)
        await self.app(scope, receive, send)

    def sweep(self, app: Any, now: float) -> list[str]:
        """End the live streams of ``app`` (Gradio's FastAPI app) silent for ``idle_s``; their event ids."""
        queue = getattr(getattr(app, "get_blocks", lambda: None)(), "_queue", None)
        events = dict(getattr(queue, "event_ids_to_events", None) or {})
        self.last_frame = {key: when for key, when in self.last_frame.items() if key in events}
        ended = []
        for key, event in events.items():
            if not (event.streaming and event.concurrency_id == LIVE_QUEUE and event.run_time > 0):
                continue  # a live stream that has started: one still waiting for a place sends nothing yet
            if now - self.last_frame.setdefault(key, now) >= self.idle_s and not event.closed:
                end_stream(event)
                ended.append(key)
        return ended


def end_stream(event: Any) -> None:
    """End a streaming event as Gradio's close route does: finished, and woken if it waits for a frame."""
    event.run_time = math.inf
    event.closed = True
    event.signal.set()
