"""What each tab computes: prepared photos in, sheets and numbers out. The model math is all in
``mlvae.latent``; this module only chooses which latent operation to call and lays the results out."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from PIL import Image

from mlvae import DataError, latent
from mlvae.data.images import to_float

from ..inputs.group_labels import labels_to_groups
from ..inputs.photos import Photos
from ..kinds import FACES, Kind
from ..models import DemoModel
from ..results.axis_labels import interpolation_axes, swap_axes
from ..results.sheets import grid_sheet, single_image, stacked_sheet, strip_sheet

FRESH_STYLES = 8  # the pooled identity is shown with this many styles from the prior
FRESH_PER_ROW = 4  # ... in two rows of four, so that they fill their box
GRID_STEPS = 7  # interpolation grid: weights 0, 1/6, ..., 1 on each axis
MAX_SWAP = 8
MAX_GROUP = 64  # photos in any gallery but the album's
MAX_ALBUM = 200  # photos in the Album tab's gallery
MAX_GENERATE = 32
MAX_SEED = 2**64 - 1  # the largest seed torch.Generator.manual_seed takes


@dataclass
class PoolResult:
    """Pool-evidence outputs: per-photo sheet, fresh-style sheet, variance chart data, a sentence."""

    sheet: Image.Image  # rows: input as the model sees it, reconstruction alone, reconstruction with pooled content
    fresh: Image.Image  # the pooled content with FRESH_STYLES styles from the prior
    chart: pd.DataFrame  # columns photos (1..B, as text), variance (mean pooled content variance)
    summary: str


def sentence(text: str) -> str:
    """``text`` ending with a full stop (messages are joined into one paragraph)."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def require(photos: Photos, minimum: int, what: str, kind: Kind = FACES) -> torch.Tensor:
    """The photos as float (B, C, H, W), or DataError when fewer than ``minimum`` are usable (the hint says how to
    give the inputs a model of ``kind`` takes)."""
    if len(photos) < minimum:
        need = "a photo" if minimum == 1 else f"at least {minimum} photos"
        refused = " ".join(sentence(p) for p in photos.problems[:2]) + (" ..." if len(photos.problems) > 2 else "")
        parts = [f"{what} needs {need} and got {len(photos) or 'none'} usable.",
                 f"Refused: {refused}" if refused else "", kind.words.input_hint]
        raise DataError(" ".join(p for p in parts if p))
    return to_float(photos.images)


UNCERTAIN_RATIO = 5  # a photo whose content variance is this many times the median is far less certain


def pooling_summary(alone: torch.Tensor, pooled: torch.Tensor, positions: list[int], what: str,
                    item: str = "photo") -> str:
    """The Pool tab's sentence: ``alone`` (B,) each photo's mean content variance, ``pooled`` (B,) the variance
    after pooling the first k; compared with a typical single photo (the median), and naming (by position,
    ``positions``: 1-based among the photos given) any photo far less certain than the rest; an input is called
    an ``item`` (a photo, a drawing)."""
    if len(alone) == 1:
        return (f"One {item}: content variance {alone[0]:.3g}. Add more {item}s of the same {what} to watch it "
                "shrink.")
    typical = float(alone.median())
    text = (f"Pooling {len(alone)} {item}s shrank the mean content variance from {typical:.3g} (a typical single "
            f"{item}: the median of the {len(alone)}) to {pooled[-1]:.3g}, {typical / float(pooled[-1]):.1f}x "
            "smaller: every photo adds its precision (paper eq. 7).")
    unsure = [(positions[i], float(v)) for i, v in enumerate(alone) if v > UNCERTAIN_RATIO * typical]
    if unsure:
        listed = ", ".join(f"{item} {k} ({v:.3g})" for k, v in unsure)
        text += (f" Far less certain than the rest: {listed}, over {UNCERTAIN_RATIO}x the median; the model is "
                 "unsure of its content (blur, a turned face, poor light), so it adds little to the pool.")
    return text


def pool_evidence(m: DemoModel, photos: Photos, seed: int = 0) -> PoolResult:
    """Reconstructions alone and pooled, the pooled identity in fresh styles, and variance by photo count."""
    x = require(photos, 1, "Pooling evidence", m.kind)
    alone = latent.reconstruct(m.model, x, pooled=False)
    pooled = latent.reconstruct(m.model, x, pooled=True)
    fresh = latent.generate(m.model, x, FRESH_STYLES, seed=int(seed))
    encoding = latent.encode(m.model, x)
    variance = latent.content_variance_by_count(encoding).cpu()
    chart = pd.DataFrame({
        "photos": [str(k) for k in range(1, len(variance) + 1)],  # categories: whole-number ticks
        "variance": variance.tolist(),
    })
    positions = [i + 1 for i in (photos.indices or range(len(photos)))]
    summary = pooling_summary(latent.content_variance_each(encoding).cpu(), variance, positions,
                              m.kind.group, m.kind.words.item)
    return PoolResult(stacked_sheet([photos.images, alone, pooled]), strip_sheet(fresh, FRESH_PER_ROW), chart, summary)


def _pair(m: DemoModel, a: Photos, b: Photos) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    xa, xb = require(a, 1, "Interpolation input A", m.kind), require(b, 1, "Interpolation input B", m.kind)
    return xa[:1], xb[:1], [xa[1:], xb[1:]]


def interpolation(m: DemoModel, a: Photos, b: Photos, style_weight: float, content_weight: float) -> Image.Image:
    """A's codes moved toward B's: style by ``style_weight``, content by ``content_weight`` (0 = A, 1 = B)."""
    image_a, image_b, groups = _pair(m, a, b)
    out = latent.interpolate(m.model, image_a, image_b, float(style_weight), float(content_weight),
                             content_groups=groups)
    return single_image(out[0])


def interpolation_and_grid(m: DemoModel, a: Photos, b: Photos, style_weight: float, content_weight: float,
                           steps: int = GRID_STEPS) -> tuple[Image.Image, Image.Image]:
    """``interpolation`` and paper Figure 5b (rows move the content from A to B, columns the style), from one
    encoding of A, B and their groups."""
    image_a, image_b, groups = _pair(m, a, b)
    ends = latent.interpolation_ends(m.model, image_a, image_b, content_groups=groups)
    weights = torch.linspace(0, 1, steps).tolist()
    image = latent.decode_interpolation(m.model, ends, [float(content_weight)], [float(style_weight)])[0, 0]
    grid = latent.decode_interpolation(m.model, ends, weights, weights)
    return single_image(image), interpolation_axes(grid_sheet(grid))


def swap_grid(m: DemoModel, photos: Photos, pooled: bool, labels: str = "") -> Image.Image:
    """Every style (rows) with every content (columns); with ``pooled``, a column's content is pooled over
    the photos that share its group label (all photos when no labels are given)."""
    x = require(photos, 1, "The swap grid", m.kind)
    groups = None
    if pooled:
        groups = [x[others] for others in labels_to_groups(labels, photos.given, photos.indices)]
    grid = latent.swap(m.model, x, x, content_groups=groups)
    return swap_axes(grid_sheet(grid, row_headers=photos.images, col_headers=photos.images), x.shape[-1])


def generation(m: DemoModel, photos: Photos, count: int, seed: int) -> Image.Image:
    """The group's pooled content with ``count`` styles drawn from the prior (seeded)."""
    x = require(photos, 1, "Generation", m.kind)
    count = int(count)
    if not 1 <= count <= MAX_GENERATE:
        raise DataError(f"the number of images must be between 1 and {MAX_GENERATE}, got {count}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise DataError(f"the seed must be a whole number from 0 to {MAX_SEED}, got {seed}")
    return strip_sheet(latent.generate(m.model, x, count, seed=int(seed)))
