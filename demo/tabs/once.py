"""A tab's result computed once for the same inputs: the page asks for it on several events at once (the page's
load and a model switch, then each of the tab's galleries, which Gradio reports as changed), and each would
otherwise compute the same result again. Per session, such a follow-up request with the inputs of the last one
computed (or being computed) within ``REPEAT_S`` changes nothing on the page and computes nothing; what the user
asks for (a button, a slider) is always computed."""
from __future__ import annotations

import functools
import hashlib
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import gradio as gr

from ..gradio_internals.sessions import current_session

REPEAT_S = 60  # the same inputs again within this many seconds: the result on the page is theirs already


class OncePerInputs:
    """The inputs a tab's update of ``outputs`` components computed last in each session, and when."""

    def __init__(self, outputs: int, repeat_s: float = REPEAT_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.outputs, self.repeat_s, self.clock = outputs, repeat_s, clock
        self._last: weakref.WeakKeyDictionary[object, tuple[str, float]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, fn: Callable) -> Callable:
        """``fn`` as a follow-up: nothing computed for the inputs computed last in the session, less than
        ``repeat_s`` ago."""
        return self._wrap(fn, skip_repeats=True)

    def noting(self, fn: Callable) -> Callable:
        """``fn`` as the user's request: always computed, its inputs noted as the last ones."""
        return self._wrap(fn, skip_repeats=False)

    def _wrap(self, fn: Callable, skip_repeats: bool) -> Callable:
        """``fn`` noting its inputs per session, skipping repeats when ``skip_repeats``."""
        @functools.wraps(fn)
        def run(*args: Any) -> Any:
            session, inputs = current_session(), hashlib.blake2b(repr(args).encode()).hexdigest()
            with self._lock:
                last = self._last.get(session)
                if skip_repeats and last is not None and last[0] == inputs and self.clock() - last[1] < self.repeat_s:
                    return (gr.skip(),) * self.outputs
                self._last[session] = (inputs, self.clock())
            try:
                return fn(*args)
            except BaseException:
                with self._lock:
                    self._last.pop(session, None)
                raise

        return run
