"""Which session a call serves: the drawing pads keep their blobs per session, and a tab's result is computed
once per session for the same inputs. Gradio's session state is read from its context (``LocalContext``)."""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_session: contextvars.ContextVar[object | None] = contextvars.ContextVar("session", default=None)


class _NoSession:
    """The session of a call made outside any (a test, the benchmark)."""


NO_SESSION = _NoSession()


@contextlib.contextmanager
def in_session(key: object) -> Iterator[None]:
    """Within this block, the request being served is of the session ``key`` (its Gradio session state)."""
    token = _session.set(key)
    try:
        yield
    finally:
        _session.reset(token)


def current_session() -> object:
    """The session of the request being served: set by ``in_session`` for an event, by Gradio for a page's
    component call (its session's config, one object per session); NO_SESSION outside both."""
    from gradio.context import LocalContext

    return _session.get() or LocalContext.blocks_config.get() or NO_SESSION
