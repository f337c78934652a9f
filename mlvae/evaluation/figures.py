"""Pictures of the evaluation: image grids in the paper's layouts (PIL) and the classifier plot (matplotlib).

Cell borders follow the paper's colour code: green = test inputs, blue = reconstructions, red = images
made by the model from mixed or sampled latents (swaps, interpolations, generations, pooled reconstructions).
"""
from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from mlvae.data.images import tensor_to_image

GREEN, BLUE, RED = (40, 160, 60), (40, 90, 220), (210, 50, 50)
WHITE = (255, 255, 255)
Colour = tuple[int, int, int]
Cell = torch.Tensor | None  # (C, H, W) float in [0, 1], or an empty cell


def compose(
    cells: Sequence[Sequence[Cell]],
    colours: Sequence[Sequence[Colour | None]] | None = None,
    scale: int = 1,
    border: int = 2,
    gap: int = 2,
    wide_gap_after_cols: Sequence[int] = (),
    wide_gap_after_rows: Sequence[int] = (),
) -> Image.Image:
    """A grid of images (rows of (C, H, W) cells or None), each framed by ``border`` pixels of its colour;
    an extra wide gap after the listed column/row indices separates blocks."""
    sample = next(c for row in cells for c in row if c is not None)
    side_h, side_w = sample.shape[1] * scale + 2 * border, sample.shape[2] * scale + 2 * border
    wide = 4 * gap + border
    xs, x = [], gap
    for j in range(max(len(r) for r in cells)):
        xs.append(x)
        x += side_w + gap + (wide if j in wide_gap_after_cols else 0)
    ys, y = [], gap
    for i in range(len(cells)):
        ys.append(y)
        y += side_h + gap + (wide if i in wide_gap_after_rows else 0)
    canvas = Image.new("RGB", (x, y), WHITE)
    for i, row in enumerate(cells):
        for j, cell in enumerate(row):
            if cell is None:
                continue
            colour = colours[i][j] if colours is not None else None
            if colour is not None:
                canvas.paste(Image.new("RGB", (side_w, side_h), colour), (xs[j], ys[i]))
            canvas.paste(tensor_to_image(cell, scale).convert("RGB"), (xs[j] + border, ys[i] + border))
    return canvas


def swap_figure(
    row_inputs: torch.Tensor,
    col_inputs: torch.Tensor,
    row_recons: torch.Tensor,
    col_recons: torch.Tensor,
    swaps: torch.Tensor,
    scale: int = 1,
) -> Image.Image:
    """Figure 4: first row/column inputs, second reconstructions, the rest ``swaps`` (R, K, C, H, W) with
    row r's style and column k's content."""
    rows, cols = swaps.shape[:2]
    cells: list[list[Cell]] = [[None, None, *col_inputs], [None, None, *col_recons]]
    colours: list[list[Colour | None]] = [[None, None] + [GREEN] * cols, [None, None] + [BLUE] * cols]
    for r in range(rows):
        cells.append([row_inputs[r], row_recons[r], *swaps[r]])
        colours.append([GREEN, BLUE] + [RED] * cols)
    return compose(cells, colours, scale, wide_gap_after_cols=(1,), wide_gap_after_rows=(1,))


def interpolation_figure(
    grid: torch.Tensor, image_a: torch.Tensor, image_b: torch.Tensor, scale: int = 1
) -> Image.Image:
    """Figure 5b: ``grid`` (R, K, C, H, W), rows interpolate the content, columns the style, from input a
    (shown top left, green) to input b (bottom right)."""
    rows, cols = grid.shape[:2]
    cells: list[list[Cell]] = [[image_a] + [None] * (cols + 1)]
    colours: list[list[Colour | None]] = [[GREEN] + [None] * (cols + 1)]
    for r in range(rows):
        cells.append([None, *grid[r], None])
        colours.append([None] + [RED] * cols + [None])
    cells.append([None] * (cols + 1) + [image_b])
    colours.append([None] * (cols + 1) + [GREEN])
    return compose(cells, colours, scale)


def generation_figure(groups: Sequence[torch.Tensor], generated: Sequence[torch.Tensor], scale: int = 1) -> Image.Image:
    """Figure 5a: one row per group, its test images (green) then images generated from its pooled content
    mean with styles from the prior (red)."""
    width = max(len(g) for g in groups)
    cells: list[list[Cell]] = []
    colours: list[list[Colour | None]] = []
    for inputs, made in zip(groups, generated, strict=True):
        pad = [None] * (width - len(inputs))
        cells.append([*inputs, *pad, *made])
        colours.append([GREEN] * len(inputs) + pad + [RED] * len(made))
    return compose(cells, colours, scale, wide_gap_after_cols=(width - 1,))


def pooling_figure(
    inputs: Sequence[torch.Tensor], unpooled: Sequence[torch.Tensor], pooled: Sequence[torch.Tensor], scale: int = 1
) -> Image.Image:
    """Figure 6a/6b: per group a block of three columns, the group's images (green), their reconstructions
    without pooling (blue) and with the content pooled over the group (red)."""
    height = max(len(g) for g in inputs)
    cells: list[list[Cell]] = [[] for _ in range(height)]
    colours: list[list[Colour | None]] = [[] for _ in range(height)]
    for block in zip(inputs, unpooled, pooled, strict=True):
        for i in range(height):
            present = i < len(block[0])
            cells[i] += [column[i] if present else None for column in block]
            colours[i] += [GREEN, BLUE, RED] if present else [None] * 3
    ends = [3 * b + 2 for b in range(len(inputs) - 1)]
    return compose(cells, colours, scale, wide_gap_after_cols=ends)


def classifier_plot(results: dict, title: str = "") -> bytes:
    """PNG bytes: accuracy and cross-entropy (bits) against k, one line (mean, band = +-1 std over trials) per
    feature kind, with chance levels dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    ks = np.asarray(results["k"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    panels = (("accuracy", "accuracy", results["chance_accuracy"]),
              ("bits", "cross-entropy (bits)", results["chance_bits"]))
    for (metric, label, chance), ax in zip(panels, axes, strict=True):
        for name, feature in results["features"].items():
            mean, std = np.asarray(feature[metric]["mean"]), np.asarray(feature[metric]["std"])
            line = ax.plot(ks, mean, marker="o", markersize=3, label=name)[0]
            ax.fill_between(ks, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label="chance")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("k (images pooled at test time)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylim(0, 1.02)
    axes[0].legend()
    if title:
        fig.suptitle(title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()
