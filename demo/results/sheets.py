"""Decoded image tensors -> PIL contact sheets for display (layout only, no model math)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from mlvae.data.images import array_to_image, display_scale, to_uint8

GAP = 2  # pixels between tiles
BLOCK_GAP = 10  # pixels between wrapped blocks of rows
BACKGROUND = 255


def tile_sheet(rows: Sequence[Sequence[torch.Tensor | None]], gap: int = GAP) -> Image.Image:
    """Rows of (C, H, W) tiles (None leaves a blank) -> one image; every tile must share C, H, W."""
    first = next(t for row in rows for t in row if t is not None)
    channels, height, width = first.shape
    cols = max(len(row) for row in rows)
    sheet = np.full(
        (len(rows) * (height + gap) - gap, cols * (width + gap) - gap, channels), BACKGROUND, dtype=np.uint8
    )
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            if tile is not None:
                y, x = r * (height + gap), c * (width + gap)
                sheet[y : y + height, x : x + width] = to_uint8(tile)
    return array_to_image(sheet, display_scale(height))


def grid_sheet(
    grid: torch.Tensor, row_headers: torch.Tensor | None = None, col_headers: torch.Tensor | None = None
) -> Image.Image:
    """A (R, K, C, H, W) grid, with its row inputs (R, C, H, W) on the left and column inputs (K, ...) on top."""
    rows: list[list[torch.Tensor | None]] = [list(grid[r]) for r in range(grid.shape[0])]
    if row_headers is not None:
        rows = [[row_headers[r]] + row for r, row in enumerate(rows)]
    if col_headers is not None:
        rows = [([None] if row_headers is not None else []) + list(col_headers)] + rows
    return tile_sheet(rows)


def strip_sheet(images: torch.Tensor, per_row: int = 8) -> Image.Image:
    """Images (B, C, H, W) in rows of ``per_row``."""
    tiles = list(images)
    return tile_sheet([tiles[i : i + per_row] for i in range(0, len(tiles), per_row)])


def stacked_sheet(parts: Sequence[torch.Tensor], per_row: int = 10) -> Image.Image:
    """Row-aligned image sets (each (B, C, H, W), same B): one row per set, wrapped into blocks of ``per_row``
    columns stacked top to bottom."""
    count = parts[0].shape[0]
    blocks = [
        tile_sheet([list(p[start : start + per_row]) for p in parts]) for start in range(0, count, per_row)
    ]
    if len(blocks) == 1:
        return blocks[0]
    width = max(b.width for b in blocks)
    gap = BLOCK_GAP * display_scale(parts[0].shape[-1])
    height = sum(b.height for b in blocks) + gap * (len(blocks) - 1)
    sheet = Image.new(blocks[0].mode, (width, height), (BACKGROUND,) * len(blocks[0].getbands()))  # white, not red
    y = 0
    for block in blocks:
        sheet.paste(block, (0, y))
        y += block.height + gap
    return sheet


def single_image(image: torch.Tensor) -> Image.Image:
    """One (C, H, W) image, enlarged like the sheets."""
    return tile_sheet([[image]])
