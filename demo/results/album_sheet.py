"""The Album tab's sheet: one row per group, its pooled identity first, then its photos as the model sees them,
each captioned with its position in the album and how sure the model is that it belongs."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from PIL import Image, ImageDraw

from .axis_labels import BACKGROUND, INK, font
from .sheets import tile_sheet

CAPTION = 18  # pixels under each row for the captions
HEAD = 22  # pixels above each row for its title
UNSURE = 0.5  # a confidence under this is drawn in red


def album_sheet(identities: torch.Tensor, photos: Sequence[torch.Tensor], captions: Sequence[Sequence[str]],
                confidences: Sequence[Sequence[float]]) -> Image.Image:
    """Rows of [identity, gap, photos of the group]: ``identities`` (K, C, H, W), ``photos[k]`` (n_k, C, H, W) with
    ``captions[k]`` and ``confidences[k]`` (n_k each); one white sheet, rows titled "Group k"."""
    rows = []
    for k in range(identities.shape[0]):
        strip = tile_sheet([[identities[k], None, *photos[k]]]).convert("RGB")
        tile = strip.height
        row = Image.new("RGB", (strip.width, strip.height + HEAD + CAPTION), (BACKGROUND,) * 3)
        row.paste(strip, (0, HEAD))
        draw = ImageDraw.Draw(row)
        draw.text((0, 3), f"Group {k + 1} · {len(captions[k])} photo{'s' * (len(captions[k]) != 1)} · pooled "
                  "identity first", fill=(INK,) * 3, font=font())
        step = (strip.width + 2) / (len(captions[k]) + 2)
        for i, (caption, sure) in enumerate(zip(captions[k], confidences[k], strict=True)):
            colour = (200, 30, 30) if sure < UNSURE else (INK,) * 3
            draw.text((int((i + 2) * step), HEAD + tile + 2), caption, fill=colour, font=font())
        rows.append(row)
    width = max(r.width for r in rows)
    sheet = Image.new("RGB", (width, sum(r.height for r in rows)), (BACKGROUND,) * 3)
    y = 0
    for r in rows:
        sheet.paste(r, (0, y))
        y += r.height
    return sheet
