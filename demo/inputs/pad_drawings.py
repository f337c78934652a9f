"""The drawing pad of digit models: a blank sheet with the brush selected, and adding a drawing to a gallery.

Gradio's editor selects its brush when it is given a background and no upload sources; emptied with None it
selects the image tool instead, so that the next drag selected text. The pad is therefore always reset to a
new blank background, never to None.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from mlvae import DataError

from ..galleries.values import gallery_paths
from .drawing_files import save_drawing

CANVAS = (280, 280)
PAPER = (255, 255, 255, 255)
NOT_DRAWN = "Draw a digit on the pad first."


def blank() -> dict[str, Any]:
    """A fresh blank pad (a new white background: the editor selects its brush for it)."""
    return {"background": Image.new("RGBA", CANVAS, PAPER), "layers": [], "composite": None}


def on_paper(image: Image.Image | None) -> Image.Image | None:
    """The pad's composite as greyscale ink on white paper (its transparent parts are paper, not black)."""
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


def add_drawing(pad_value: dict | None, gallery_value: Any) -> tuple[list[str], dict[str, Any]]:
    """The gallery with the pad's drawing added, and a blank pad; DataError when nothing was drawn."""
    composite = on_paper((pad_value or {}).get("composite"))
    if not has_ink(composite):
        raise DataError(NOT_DRAWN)
    return gallery_paths(gallery_value) + [save_drawing(composite)], blank()
