"""Each tab's notice: the files its last update could not use, or why it made no result, shown in that tab until
its next update (a toast would vanish when the user moves to another tab, and a refusal would show twice).

The endpoints report problems through ``warn``; an update run through ``with_notice`` collects them, and returns
them, escaped, as one more output (the tab's notice). Outside such an update (the API) ``warn`` shows a toast.
"""
from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import gradio as gr

_collected: ContextVar[list[str] | None] = ContextVar("demo_notices", default=None)
_MARKDOWN = re.compile(r"([\\`*_\[\]()#|~<>!])")

Missing = Callable[..., str | None]  # the tab's inputs -> why nothing can be computed ("" = say nothing), or None


def warn(message: str) -> None:
    """Report a problem with the current request: into the running update's notice, else as a toast."""
    collected = _collected.get()
    if collected is None:
        gr.Warning(html.escape(message))
    else:
        collected.append(message)


def plain(text: str) -> str:
    """``text`` shown literally in Markdown: no markup or link from a file name reaches the page."""
    return _MARKDOWN.sub(r"\\\1", html.unescape(text))


def notice(messages: list[str]) -> Any:
    """The notice component's update: the messages, one a line, or hidden when there are none."""
    text = "\n\n".join(f"⚠ {plain(m)}" for m in messages)
    return gr.update(value=text, visible=bool(messages))


def with_notice(fn: Callable, outputs: int, missing: Missing = lambda *args: None) -> Callable:
    """``fn`` (one of the app's guarded functions) for a tab's UI update: its ``outputs`` results and the notice.

    When ``missing`` names a reason (or "") or ``fn`` refuses the inputs, the results are cleared and the reason
    (the refusal alone: it names the files it refused) becomes the notice; no toast is shown."""

    @functools.wraps(fn)
    def run(*args: Any) -> tuple:
        token = _collected.set([])
        try:
            reason = missing(*args)
            if reason is not None:
                return (None,) * outputs + (notice([reason] if reason else []),)
            try:
                result = fn(*args)
            except gr.Error as exc:
                return (None,) * outputs + (notice([str(exc.message)]),)
            result = result if isinstance(result, tuple) else (result,)
            return (*result, notice(_collected.get() or []))
        finally:
            _collected.reset(token)

    return run
