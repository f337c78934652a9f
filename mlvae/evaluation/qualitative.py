"""The paper's qualitative experiments on test images: swapping (figure 4, strategies 1 and 2),
interpolation (5b), generation (5a) and reconstruction with and without pooling (6a/6b).

Chooses the test images (seeded), runs the latent operations of ``mlvae.latent`` and draws with
``mlvae.evaluation.figures``; returns PIL images.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from mlvae import latent
from mlvae.data.grouped import GroupedImages
from mlvae.data.images import display_scale, to_float
from mlvae.errors import MLVAEError
from mlvae.evaluation import figures
from mlvae.model.interface import GroupedVAE


@dataclass
class FigureSizes:
    """How many images each figure shows."""

    swap_rows: int = 8
    swap_cols: int = 8
    interpolation_steps: int = 8
    generation_groups: int = 6
    generation_inputs: int = 8
    generation_count: int = 8
    pooling_groups: int = 4
    pooling_images: int = 4


QUICK_SIZES = FigureSizes(3, 3, 3, 2, 3, 3, 2, 3)


class Picker:
    """Seeded choices of test images and groups for the figures."""

    def __init__(self, data: GroupedImages, seed: int) -> None:
        self.data, self.rng = data, np.random.default_rng(seed)
        groups, counts = torch.unique(data.groups, return_counts=True)
        self.members = {g: data.members(g).numpy() for g in groups.tolist()}
        self.pools = [g for g, n in zip(groups.tolist(), counts.tolist(), strict=True) if n >= 2]
        if not self.pools:
            raise MLVAEError("every test group holds a single image: the figures need groups of 2 or more images")

    def groups(self, count: int) -> list[int]:
        """``count`` distinct groups of at least 2 images (repeated only if there are fewer)."""
        order = list(self.rng.permutation(self.pools))
        while len(order) < count:
            order += list(self.rng.permutation(self.pools))
        return [int(g) for g in order[:count]]

    def images_of(self, group: int, count: int) -> np.ndarray:
        """Up to ``count`` distinct images of ``group``."""
        return self.rng.permutation(self.members[group])[:count]

    def inputs_with_extras(self, count: int, extra: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``count`` images from different groups, and for each up to ``extra`` other images of its group."""
        picked, extras = [], []
        for g in self.groups(count):
            chosen = self.images_of(g, extra + 1)
            picked.append(chosen[0])
            extras.append(self.float(chosen[1:]))
        return self.float(np.asarray(picked)), extras

    def float(self, indices: np.ndarray) -> torch.Tensor:
        """Images at ``indices`` as float (n, C, H, W) in [0, 1]."""
        return to_float(self.data.images[torch.as_tensor(indices, dtype=torch.long)])


def swap_grid(
    model: GroupedVAE,
    rows: tuple[torch.Tensor, list[torch.Tensor]],
    cols: tuple[torch.Tensor, list[torch.Tensor]],
    strategy: int,
    mode: str,
    seed: int,
    shown=lambda x: x,
):
    """Figure 4 for strategy 1 (no pooling) or 2 (each input's content pooled with the other images of its
    group given beside it); ``rows`` and ``cols`` are (inputs (n, C, H, W), other images of each one's group)."""
    (rows, row_groups), (cols, col_groups) = rows, cols
    col_groups, row_groups = (col_groups, row_groups) if strategy == 2 else (None, None)
    swaps = latent.swap(model, rows, cols, col_groups, mode, seed)
    # a swap with identical inputs is the reconstruction: its diagonal, under the same pooling
    col_recons = latent.swap(model, cols, cols, col_groups, mode, seed).diagonal(dim1=0, dim2=1).movedim(-1, 0)
    row_recons = latent.swap(model, rows, rows, row_groups, mode, seed).diagonal(dim1=0, dim2=1).movedim(-1, 0)
    return figures.swap_figure(shown(rows), shown(cols), row_recons, col_recons, swaps, display_scale(cols.shape[-1]))


def interpolation(
    model: GroupedVAE, picker: Picker, sizes: FigureSizes, pool_images: int, mode: str, seed: int, shown=lambda x: x
):
    """Figure 5b between test images of two different groups, strategy 2."""
    pair, extras = picker.inputs_with_extras(2, pool_images)
    weights = torch.linspace(0, 1, sizes.interpolation_steps).tolist()
    grid = latent.interpolation_grid(model, pair[0:1], pair[1:2], weights, weights, mode, seed, extras)
    pair_shown = shown(pair)
    return figures.interpolation_figure(grid, pair_shown[0], pair_shown[1], display_scale(pair.shape[-1]))


def generation(model: GroupedVAE, picker: Picker, sizes: FigureSizes, seed: int, shown=lambda x: x):
    """Figure 5a: per group, its images and generations from its pooled content mean with prior styles."""
    groups = picker.groups(sizes.generation_groups)
    inputs = [picker.float(picker.images_of(g, sizes.generation_inputs)) for g in groups]
    made = [latent.generate(model, x, sizes.generation_count, seed + i) for i, x in enumerate(inputs)]
    return figures.generation_figure([shown(x) for x in inputs], made, display_scale(inputs[0].shape[-1]))


def pooling(model: GroupedVAE, picker: Picker, sizes: FigureSizes, mode: str, seed: int, shown=lambda x: x):
    """Figure 6a/6b: reconstructions of a group's images without and with pooling their content."""
    inputs = [picker.float(picker.images_of(g, sizes.pooling_images)) for g in picker.groups(sizes.pooling_groups)]
    unpooled = [latent.reconstruct(model, x, pooled=False, mode=mode, seed=seed) for x in inputs]
    pooled = [latent.reconstruct(model, x, pooled=True, mode=mode, seed=seed) for x in inputs]
    return figures.pooling_figure([shown(x) for x in inputs], unpooled, pooled, display_scale(inputs[0].shape[-1]))


def make_figures(
    model: GroupedVAE, test: GroupedImages, sizes: FigureSizes, pool_images: int, mode: str, seed: int,
    decoded_only: bool = False,
) -> dict[str, Image.Image]:
    """Every qualitative figure, keyed swap_strategy1, swap_strategy2, interpolation, generation, pooling.

    ``decoded_only``: where a figure shows input images, show their reconstructions instead, so that no
    input photo appears (for figures of licensed photos that are published, e.g. in a model card)."""
    picker = Picker(test, seed)
    shown = (lambda x: latent.reconstruct(model, x, pooled=False, mode="mean")) if decoded_only else (lambda x: x)
    swap_rows = picker.inputs_with_extras(sizes.swap_rows, pool_images)  # both strategies show the same inputs
    swap_cols = picker.inputs_with_extras(sizes.swap_cols, pool_images)
    steps = {
        "swap_strategy1": lambda: swap_grid(model, swap_rows, swap_cols, 1, mode, seed, shown),
        "swap_strategy2": lambda: swap_grid(model, swap_rows, swap_cols, 2, mode, seed, shown),
        "interpolation": lambda: interpolation(model, picker, sizes, pool_images, mode, seed, shown),
        "generation": lambda: generation(model, picker, sizes, seed, shown),
        "pooling": lambda: pooling(model, picker, sizes, mode, seed, shown),
    }
    return {key: make() for key, make in tqdm(steps.items(), desc="figures", dynamic_ncols=True)}
