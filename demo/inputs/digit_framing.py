"""Digits framed the MNIST way: MNIST digits are white ink on black, centred in a 20-pixel box of the 28-pixel
frame, so a light-background image (a drawing, a scan of ink on paper) is inverted and its ink framed so."""
from __future__ import annotations

import numpy as np
from PIL import Image

from mlvae import DataError

MNIST_INK_BOX = 20 / 28  # MNIST digits fit a 20 x 20 box centred in the 28 x 28 frame
INK_THRESHOLD = 0.25  # a pixel is ink above this fraction of the brightest pixel
MAX_INK_SIDE = 1024  # the ink box is shrunk to this before framing (the frame becomes 28 pixels): a bounded canvas


def has_light_background(image: Image.Image) -> bool:
    """True when the border of a greyscale image is mostly light (ink on paper rather than MNIST's black)."""
    arr = np.asarray(image, dtype=np.uint8)
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    return float(np.median(border)) > 127


def frame_digit(image: Image.Image) -> Image.Image:
    """White-on-black greyscale digit -> a square frame in which, like MNIST, the ink box spans 20/28 of the
    side and the ink's centre of mass sits at the centre."""
    arr = np.asarray(image, dtype=np.uint8)
    ink = arr > INK_THRESHOLD * max(int(arr.max()), 1)
    if arr.max() < 32 or not ink.any():
        raise DataError("the drawing is empty: draw a digit (dark ink on a light background, or light on dark)")
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    box = image.crop((cols[0], rows[0], cols[-1] + 1, rows[-1] + 1))
    if max(box.size) > MAX_INK_SIDE:  # shrunk first: the canvas's side follows the ink box's longer side
        scale = MAX_INK_SIDE / max(box.size)
        box = box.resize((max(1, round(box.width * scale)), max(1, round(box.height * scale))), Image.Resampling.BOX)
    width, height = box.size
    side = int(np.ceil(max(height, width) / MNIST_INK_BOX))
    crop = np.asarray(box, dtype=np.float64)
    mass = max(crop.sum(), 1.0)
    cy, cx = (crop.sum(axis=1) @ np.arange(height)) / mass, (crop.sum(axis=0) @ np.arange(width)) / mass
    # centre of mass to the centre, but never pushing the ink out of the frame
    x = int(round(min(max(side / 2 - cx, 0), side - width)))
    y = int(round(min(max(side / 2 - cy, 0), side - height)))
    canvas = Image.new("L", (side, side), 0)
    canvas.paste(box, (x, y))
    return canvas
