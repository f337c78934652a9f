"""Decoded image tensors -> PIL contact sheets for display (layout only, no model math)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from PIL import Image

GAP = 2  # pixels between tiles
BLOCK_GAP = 10  # pixels between wrapped blocks of rows
BACKGROUND = 255
MIN_TILE = 56  # small images (MNIST's 28 px) are enlarged by a whole factor up to at least this


def display_scale(size: int) -> int:
    """Whole-number enlargement for tiles of ``size`` pixels."""
    return max(1, -(-MIN_TILE // size))


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Float (..., C, H, W) in [0, 1] or uint8 -> uint8 (..., H, W, C)."""
    if images.dtype != torch.uint8:
        images = images.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
    return images.cpu().movedim(-3, -1).numpy()


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
    return _to_image(sheet, height)


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
    sheet = Image.new(blocks[0].mode, (width, height), BACKGROUND)
    y = 0
    for block in blocks:
        sheet.paste(block, (0, y))
        y += block.height + gap
    return sheet


def single_image(image: torch.Tensor) -> Image.Image:
    """One (C, H, W) image, enlarged like the sheets."""
    return tile_sheet([[image]])


def _to_image(array: np.ndarray, tile_size: int) -> Image.Image:
    image = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    scale = display_scale(tile_size)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    return image
