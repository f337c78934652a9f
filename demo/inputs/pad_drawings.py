"""The drawing pad's value (``demo.tabs.drawing_pad``) to a drawing, and adding a drawing to a gallery.

The pad sends its drawing as one string, ``data:image/png;base64,...`` (or ``""`` when blank). Every value a client
sends is hostile: anything but a string is refused, the string's length is bounded before it is decoded (at most
``MAX_DRAWING_BYTES`` of image, about 2.8 million characters; a request's strings are bounded lower still by
``demo.gradio_internals.request_limits``), and the bytes go through the demo's image checks
(``demo.inputs.drawing_files.decode_drawing``: only ``IMAGE_FORMATS``, at most ``MAX_DRAWING_PIXELS``, size and
aspect checked from the header). The value is never a path: nothing a client names is opened, and nothing waits on
the server between requests (the drawing comes with the event that adds it).
"""
from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np
from PIL import Image

from mlvae import DataError

from .drawing_files import MAX_DRAWING_BYTES, decode_drawing, save_drawing
from .gallery_values import gallery_paths

CANVAS = (280, 280)
PAPER = (255, 255, 255, 255)
NOT_DRAWN = "Draw a digit on the pad first."
PNG_URL = "data:image/png;base64,"
MAX_DATA_URL_CHARS = len(PNG_URL) + 4 * -(-MAX_DRAWING_BYTES // 3)  # MAX_DRAWING_BYTES of PNG, base64-encoded
BLANK = ""  # the pad's value when nothing is drawn; an event returning it empties the pad


def drawing_bytes(value: Any) -> bytes | None:
    """The image bytes of the pad's value (None when blank); DataError naming the problem for a value the pad does
    not send: not a string, longer than a 2 MB drawing (checked before decoding), not a base64 PNG data URL."""
    if value is None or value == BLANK:
        return None
    if not isinstance(value, str):
        raise DataError(f"the drawing: the pad sends a text, not a {type(value).__name__}; clear the pad and draw "
                        "again")
    if len(value) > MAX_DATA_URL_CHARS:
        raise DataError(f"the drawing: {len(value) >> 10} k characters, more than the {MAX_DRAWING_BYTES >> 20} MB "
                        "a 280 x 280 drawing takes; clear the pad and draw again")
    if not value.startswith(PNG_URL):
        raise DataError("the drawing: not a PNG data URL as the pad sends it; clear the pad and draw again")
    try:
        return base64.b64decode(value[len(PNG_URL):], validate=True)
    except (binascii.Error, ValueError):
        raise DataError("the drawing: not valid base64; clear the pad and draw again") from None


def read_drawing(value: Any) -> Image.Image | None:
    """The pad's drawing decoded with the demo's image checks, as RGBA (None when blank); DataError naming the
    problem."""
    data = drawing_bytes(value)
    return decode_drawing(data) if data else None


def on_paper(image: Image.Image | None) -> Image.Image | None:
    """The pad's drawing as greyscale ink on white paper (transparent parts are paper, not black)."""
    if image is None:
        return None
    if image.mode in ("RGBA", "LA", "P"):
        image = Image.alpha_composite(Image.new("RGBA", image.size, PAPER), image.convert("RGBA"))
    return image.convert("L")


def has_ink(image: Image.Image | None) -> bool:
    """True when the pad holds more than one colour (something was drawn)."""
    if image is None:
        return False
    arr = np.asarray(image.convert("L"))
    return int(arr.max()) - int(arr.min()) > 32


def add_drawing(pad_value: Any, gallery_value: Any) -> tuple[list[str], str]:
    """The gallery with the pad's drawing added, and a blank pad; DataError when nothing was drawn or the value is
    not a drawing."""
    drawing = on_paper(read_drawing(pad_value))
    if not has_ink(drawing):
        raise DataError(NOT_DRAWN)
    return gallery_paths(gallery_value) + [save_drawing(drawing)], BLANK
