"""New sessions per client address: each one costs the server a copy of the page's state (Gradio builds it in its
event loop), so 2,000 new-session calls from one client slowed every page to 1.3-1.9 s. A client address may start
``NEW_SESSION_BURST`` sessions at once and then ``NEW_SESSIONS_PER_S`` a second (a token bucket); past that, a
request that would start a session is refused before Gradio reads it (``demo.gradio_internals.request_limits``).

A request starts a session when it names a session this server has not seen lately (the last ``MAX_SESSIONS``
are remembered, as many as Gradio keeps), or names none on a route that makes one per call (``/call/``, ``/run/``).
The address is the connection's (uvicorn takes X-Forwarded-For only from the proxies it trusts:
``FORWARDED_ALLOW_IPS``); at most ``MAX_ADDRESSES`` are tracked, the least recently seen forgotten first.
"""
from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

# sessions whose state the server keeps (Gradio's default is 10,000), the least recently used dropped first: each
# holds Gradio's copy of the page (~170 kB) and its last inputs (checked and bounded, demo.gradio_internals)
MAX_SESSIONS = 1000
NEW_SESSION_BURST = 200  # sessions one address may start at once (a page load is one; a test module, ~150)
NEW_SESSIONS_PER_S = 2.0  # ... and then this many a second
MAX_ADDRESSES = 10_000  # client addresses tracked at once (~200 bytes each)
SESSION_PER_CALL_ROUTES = ("/gradio_api/call/", "/gradio_api/run/")  # no session named: Gradio makes one per call
MULTIPART_SESSION = re.compile(rb'name="session_hash"\r\n\r\n([^\r\n]{1,256})\r\n')
TOO_MANY = (f"too many new sessions from your address ({NEW_SESSION_BURST} at once, then {NEW_SESSIONS_PER_S:g} a "
            "second): wait a minute and retry, or reuse your session (send the same session_hash with each "
            "request, as the page and gradio_client do)")


def session_in_json(value: Any) -> str | None:
    """The session_hash a parsed JSON body names, None when none."""
    session = value.get("session_hash") if isinstance(value, dict) else None
    return session if isinstance(session, str) else None


def session_in_form(body: bytes) -> str | None:
    """The session_hash field of a multipart form body, None when none."""
    found = MULTIPART_SESSION.search(body)
    return found.group(1).decode("utf-8", "replace") if found else None


def starts_per_call(path: str) -> bool:
    """Whether a request to ``path`` that names no session gets a new one (Gradio's REST routes)."""
    return any(path.startswith(route) for route in SESSION_PER_CALL_ROUTES)


class SessionAdmission:
    """Which requests may start a new session now: the sessions seen lately, and a token bucket per address."""

    def __init__(self, burst: int = NEW_SESSION_BURST, per_s: float = NEW_SESSIONS_PER_S,
                 known: int = MAX_SESSIONS, addresses: int = MAX_ADDRESSES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst, self.per_s, self.known_max, self.addresses_max, self.clock = burst, per_s, known, addresses, clock
        self.known: OrderedDict[str, None] = OrderedDict()
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # address -> (tokens, when)

    def admit(self, address: str, session: str | None) -> bool:
        """Whether a request from ``address`` naming ``session`` (None: a new one per call) may go on."""
        if session is not None and session in self.known:
            self.known.move_to_end(session)
            return True
        if not self.take(address):
            return False
        if session is not None:
            self.known[session] = None
            if len(self.known) > self.known_max:
                self.known.popitem(last=False)
        return True

    def take(self, address: str) -> bool:
        """Take one new session from ``address``'s bucket; False when it is empty."""
        now = self.clock()
        tokens, then = self.buckets.pop(address, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.per_s)
        admitted = tokens >= 1
        self.buckets[address] = (tokens - admitted, now)
        if len(self.buckets) > self.addresses_max:
            self.buckets.popitem(last=False)
        return admitted
