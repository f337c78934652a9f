"""Every computation a request starts: at most CONCURRENCY at once, and its problems turned into clear messages."""
from __future__ import annotations

import functools
import html
import logging
import threading
from collections.abc import Callable
from typing import Any

import gradio as gr

from mlvae import MLVAEError

log = logging.getLogger(__name__)

CONCURRENCY = 2  # requests computed at once (a free Space has 2 vCPUs)
# every computation, the webcam's live frames included, takes one of CONCURRENCY slots while it computes (the live
# stream holds its own queue slot, one stream at a time, but a slot here only per frame)
COMPUTING = threading.BoundedSemaphore(CONCURRENCY)


def guarded(fn: Callable) -> Callable:
    """Turn a problem into a clear message in the UI (gr.Error) instead of a failed request."""

    @functools.wraps(fn)
    def run(*args: Any) -> Any:
        try:
            with COMPUTING:
                return fn(*args)
        except gr.Error:
            raise
        except MLVAEError as exc:
            raise gr.Error(html.escape(str(exc)), title="Cannot do that") from exc
        except Exception as exc:  # never let one request take the server down
            log.exception("request failed")
            raise gr.Error(
                f"Something went wrong on the server ({type(exc).__name__}). The demo keeps running: try other "
                "photos, or report the problem with the photos that caused it.",
            ) from exc

    return run
