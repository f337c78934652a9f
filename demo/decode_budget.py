"""Each request's decoding budget: the pixels its photos may decode, in all (cached photos cost nothing).

Every photo is within the size limits, but a gallery of 64 distinct 24-megapixel PNGs would decode for half a
minute; past ``MAX_REQUEST_PIXELS`` the remaining photos are left out with a message naming them.
"""
from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator

from mlvae import DataError

MAX_REQUEST_PIXELS = 120_000_000  # five photos at the 24-megapixel limit: a few seconds of decoding

_left: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("decode_budget", default=None)


class BudgetSpent(DataError):
    """The request's decoding budget cannot pay for this photo (a problem of the request, not of the file)."""


@contextlib.contextmanager
def decode_budget(pixels: int = MAX_REQUEST_PIXELS) -> Iterator[None]:
    """Within this block, ``charge`` draws on a budget of ``pixels``."""
    token = _left.set([pixels])
    try:
        yield
    finally:
        _left.reset(token)


def charge(width: int, height: int) -> None:
    """Pay for decoding ``width`` x ``height`` pixels, or raise BudgetSpent (no budget set: free)."""
    left = _left.get()
    if left is None:
        return
    if width * height > left[0]:
        raise BudgetSpent(
            f"left out: the photos before it already take most of the {MAX_REQUEST_PIXELS // 1_000_000} megapixels "
            "one request may decode; send fewer or smaller photos (JPEGs are decoded reduced, so they cost less)"
        )
    left[0] -= width * height
