"""Axis labels drawn onto a result sheet: a band under it names what changes from column to column, a band on its
right what changes from row to row, each with an arrow (and the ends, e.g. A and B, under the first and last tile).

The bands lie below and to the right of the tiles, so every tile keeps its place in the sheet.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from .sheets import GAP, display_scale

BAND = 24  # pixels: height of the bottom band, width of the right band
FONT_SIZE = 14
INK = 40  # grey level of the labels (greyscale sheets stay greyscale: a third of the PNG to encode)
BACKGROUND = 255
PAD = 6  # pixels between a label and the arrow
MIN_ARROW = 24  # the shortest arrow worth drawing


@dataclass(frozen=True)
class Axis:
    """One labelled axis: its name, the labels of its two ends (optional), and the pixel span it covers."""

    name: str
    start: int  # first pixel of the span along the sheet's edge
    stop: int  # one past its last pixel
    ends: tuple[str, str] | None = None
    short: str | None = None  # the name when the whole one leaves no room for the arrow (a small grid)


@lru_cache(maxsize=1)
def font() -> ImageFont.ImageFont:
    """The label font: Pillow's own (no system fonts needed)."""
    return ImageFont.load_default(size=FONT_SIZE)


def _text_width(text: str) -> int:
    left, _, right, _ = font().getbbox(text)
    return int(right - left)


def _arrow(draw: ImageDraw.ImageDraw, x0: int, x1: int, y: int) -> None:
    """A horizontal arrow from x0 to x1 (pointing right) at height y."""
    if x1 - x0 < 12:  # (no room: the name alone)
        return
    draw.line([(x0, y), (x1, y)], fill=INK, width=2)
    draw.polygon([(x1, y), (x1 - 7, y - 4), (x1 - 7, y + 4)], fill=INK)


@lru_cache(maxsize=64)
def _strip(axis: Axis, length: int, mode: str, rotated: bool) -> Image.Image:
    """A band of ``length`` pixels: [end A] name ----> [end B] over the axis's span (drawn once, then reused);
    ``rotated``: turned to read downwards, for the right-hand side."""
    strip = Image.new("L", (length, BAND), BACKGROUND)
    draw = ImageDraw.Draw(strip)
    y_text, y_line = (BAND - FONT_SIZE) // 2 - 2, BAND // 2
    x, stop = axis.start + 2, axis.stop - 2
    if axis.ends:
        first, last = axis.ends
        draw.text((x, y_text), first, font=font(), fill=INK)
        x += _text_width(first) + PAD
        stop -= _text_width(last)
        draw.text((stop, y_text), last, font=font(), fill=INK)
        stop -= PAD
    name = axis.name
    if axis.short and x + _text_width(name) + PAD + MIN_ARROW > stop:
        name = axis.short
    draw.text((x, y_text), name, font=font(), fill=INK)
    _arrow(draw, x + _text_width(name) + PAD, stop, y_line)
    if rotated:
        strip = strip.rotate(-90, expand=True)
    return strip.convert(mode)


def label_axes(sheet: Image.Image, columns: Axis, rows: Axis) -> Image.Image:
    """``sheet`` with ``columns`` labelled in a band below it (arrow pointing right) and ``rows`` in a band on
    its right (reading downwards, arrow pointing down); the tiles keep their pixel positions."""
    mode = "L" if sheet.mode == "L" else "RGB"
    out = Image.new(mode, (sheet.width + BAND, sheet.height + BAND), BACKGROUND if mode == "L" else (BACKGROUND,) * 3)
    out.paste(sheet.convert(mode), (0, 0))
    out.paste(_strip(columns, sheet.width, mode, False), (0, sheet.height))
    out.paste(_strip(rows, sheet.height, mode, True), (sheet.width, 0))
    return out


def header_span(tile_size: int) -> int:
    """Pixels taken by one header tile and its gap in a sheet of ``tile_size`` tiles (the inputs' row/column)."""
    return (tile_size + GAP) * display_scale(tile_size)


def swap_axes(sheet: Image.Image, tile_size: int) -> Image.Image:
    """The swap grid's axes: columns take the content of the photo above them, rows the style of the photo left."""
    skip = header_span(tile_size)
    return label_axes(sheet, Axis("content of the photo above", skip, sheet.width, short="content"),
                      Axis("style of the photo on the left", skip, sheet.height, short="style"))


def interpolation_axes(sheet: Image.Image) -> Image.Image:
    """The interpolation grid's axes: the style goes from A to B along a row, the content down a column."""
    return label_axes(sheet, Axis("style", 0, sheet.width, ("A", "B")),
                      Axis("content", 0, sheet.height, ("A", "B")))
