"""New sessions per client address, and work per session: 2,000 new-session calls from one client once slowed
every page to 1.3-1.9 s. A request that carries the token of a page this server sent (``page_tokens``) may start
that page's few sessions whatever its address has left; any other may start a session from its address's allowance:
``NEW_SESSION_BURST`` at once and then ``NEW_SESSIONS_PER_S`` a second (a token bucket). Past that, a request that
would start a session is refused before Gradio reads it (``demo.gradio_internals.fair_use``). So a client that
floods from an address that strangers share (a proxy's) spends the address's allowance, not the pages' tokens.

A session may have ``MAX_EVENTS_PER_SESSION`` events waiting or running at once, and only
``BUSY_EVENTS_PER_SESSION`` while the queue is half full (``busy_refusal``): a client that floods the queue from
its sessions is refused before the others, who still find places.

A request starts a session when it names a session this server has not seen lately (the last ``MAX_SESSIONS``
are remembered, as many as Gradio keeps), or names none on a route that makes one per call (``/call/``, ``/run/``).
The address is the connection's, or the one a trusted proxy forwards (``demo.gradio_internals.forwarding``: none
unless the operator names them); at most ``MAX_ADDRESSES`` are tracked, the least recently seen forgotten first.
"""
from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .page_tokens import PageTokens

# sessions whose state the server keeps (Gradio's default is 10,000), the least recently used dropped first: each
# holds Gradio's copy of the page (~170 kB) and its last inputs (checked and bounded, demo.gradio_internals)
MAX_SESSIONS = 1000
NEW_SESSION_BURST = 200  # sessions one address may start at once (a page load is one; a test module, ~150)
NEW_SESSIONS_PER_S = 2.0  # ... and then this many a second
MAX_ADDRESSES = 10_000  # client addresses tracked at once (~200 bytes each)
SESSION_PER_CALL_ROUTES = ("/gradio_api/call/", "/gradio_api/run/")  # no session named: Gradio makes one per call
MULTIPART_SESSION = re.compile(rb'name="session_hash"\r\n\r\n([^\r\n]{1,256})\r\n')
MAX_EVENTS_PER_SESSION = 16  # events of one session waiting or running at once (a switch: then 4 refreshes)
BUSY_EVENTS_PER_SESSION = 2  # ... while the queue is at least half full
TOO_MANY = (f"too many new sessions from your address ({NEW_SESSION_BURST} at once, then {NEW_SESSIONS_PER_S:g} a "
            "second): wait a minute and retry, or reuse your session (send the same session_hash with each "
            "request, as the page and gradio_client do), or load the page")


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
                 clock: Callable[[], float] = time.monotonic, tokens: PageTokens | None = None) -> None:
        self.burst, self.per_s, self.known_max, self.addresses_max, self.clock = burst, per_s, known, addresses, clock
        self.tokens = tokens or PageTokens()
        self.known: OrderedDict[str, None] = OrderedDict()
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # address -> (tokens, when)

    def admit(self, address: str, session: str | None, token: str | None = None) -> bool:
        """Whether a request from ``address`` naming ``session`` (None: a new one per call), with a page's ``token``
        or none, may go on."""
        if session is not None and session in self.known:
            self.known.move_to_end(session)
            return True
        if not (session is not None and self.tokens.redeem(token)) and not self.take(address):
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


def events_of(queue: Any, session: str) -> int:
    """How many events of ``session`` Gradio's queue holds, waiting or running."""
    waiting = sum(event.session_hash == session for line in queue.event_queue_per_concurrency_id.values()
                  for event in line.queue)
    return waiting + sum(event.session_hash == session for jobs in queue.active_jobs if jobs for event in jobs)


def busy_refusal(queue: Any, session: str) -> str | None:
    """Why a new event of ``session`` is refused now (None: it may join): too many of its events in the queue."""
    events = events_of(queue, session)
    half_full = queue.max_size is not None and len(queue) * 2 >= queue.max_size
    limit = BUSY_EVENTS_PER_SESSION if half_full else MAX_EVENTS_PER_SESSION
    if events < limit:
        return None
    return (f"your session already has {events} requests waiting or running (at most {limit} while the server is "
            f"{'busy' if half_full else 'free'}): wait for their results, then send the next")
