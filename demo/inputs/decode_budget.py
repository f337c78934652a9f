"""Each request's budget: the pixels its photos may decode, and the pixels its face searches may cover, in all
(cached photos cost nothing).

Every photo is within the size limits, but a gallery of 64 distinct 24-megapixel PNGs would decode for half a
minute, and 64 distinct photos without a face searched for one for 55 s; past ``MAX_REQUEST_PIXELS`` decoded or
``MAX_REQUEST_SEARCH_PIXELS`` searched, the remaining photos are left out with a message naming them.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from mlvae import DataError

MAX_REQUEST_PIXELS = 120_000_000  # five photos at the 24-megapixel limit: a few seconds of decoding
# dlib's face search (HOG) takes ~0.11 s a megapixel on one core: 32 photos searched at DETECT_MAX_SIDE, ~4 s;
# a gallery of 64 CelebA-sized photos searched twice (the second upsampled) takes 12 megapixels; an album of 200
# (demo.computing.computations.MAX_ALBUM) CelebA or LFW photos, whose faces are found at the first search, 8-13
# megapixels (tests/test_demo_album.py reads 200 real ones within this budget)
MAX_REQUEST_SEARCH_PIXELS = 32_000_000

_left: contextvars.ContextVar[dict[str, int] | None] = contextvars.ContextVar("decode_budget", default=None)


class BudgetSpent(DataError):
    """The request's budget cannot pay for this photo (a problem of the request, not of the file)."""


@contextlib.contextmanager
def decode_budget(pixels: int = MAX_REQUEST_PIXELS, search_pixels: int = MAX_REQUEST_SEARCH_PIXELS) -> Iterator[None]:
    """Within this block, ``charge`` draws on a budget of ``pixels`` and ``charge_search`` on ``search_pixels``;
    a block inside another draws on the outer one's (one request reading two galleries has one budget)."""
    if _left.get() is not None:
        yield
        return
    token = _left.set({"decode": pixels, "search": search_pixels})
    try:
        yield
    finally:
        _left.reset(token)


def _pay(kind: str, pixels: int, message: str) -> None:
    """Take ``pixels`` from the budget ``kind``, or raise BudgetSpent with ``message`` (no budget set: free)."""
    left = _left.get()
    if left is None:
        return
    if pixels > left[kind]:
        raise BudgetSpent(message)
    left[kind] -= pixels


def charge(width: int, height: int) -> None:
    """Pay for decoding ``width`` x ``height`` pixels, or raise BudgetSpent."""
    _pay("decode", width * height,
         f"left out: the photos before it already take most of the {MAX_REQUEST_PIXELS // 1_000_000} megapixels "
         "one request may decode; send fewer or smaller photos (JPEGs are decoded reduced, so they cost less)")


def charge_search(pixels: int) -> None:
    """Pay for searching ``pixels`` for a face, or raise BudgetSpent."""
    _pay("search", pixels,
         "left out: the photos before it already took the face search one request may make "
         f"({MAX_REQUEST_SEARCH_PIXELS // 1_000_000} megapixels searched); send fewer photos, or the same photos "
         "again (a photo whose face was found costs nothing the next time)")
