"""Latent operations shared by the evaluation and the demo: encode, pool, swap, interpolate, generate,
reconstruct. Each takes float images (B, C, H, W) in [0, 1] and returns decoded images in [0, 1].

``mode`` is ``"mean"`` (posterior means, deterministic) or ``"sample"`` (one draw, seeded by ``seed``).
For the plain VAE baseline, "content" and "style" are simply the two halves of its latent.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from mlvae.data.images import to_float
from mlvae.model.interface import Encoding, GroupedVAE
from mlvae.model.posterior import DiagonalNormal, pool, product_of_normals

MODES = ("mean", "sample")


def _generator(seed: int | None, device: torch.device) -> torch.Generator | None:
    return None if seed is None else torch.Generator(device).manual_seed(seed)


def _device(model: GroupedVAE) -> torch.device:
    return next(model.parameters()).device


def pick(q: DiagonalNormal, mode: str = "mean", generator: torch.Generator | None = None) -> torch.Tensor:
    """The mean of ``q`` or one reparameterised sample: (N, d)."""
    if mode not in MODES:
        raise ValueError(f"mode must be 'mean' or 'sample', got {mode!r}")
    return q.mean if mode == "mean" else q.rsample(generator)


@torch.no_grad()
def encode(model: GroupedVAE, images: torch.Tensor, batch_size: int | None = None) -> Encoding:
    """Per-image style and content posteriors of ``images`` (B, C, H, W), float in [0, 1] or uint8: each (B, d).

    With ``batch_size`` the images go through the encoder that many at a time (large test sets)."""
    device = _device(model)

    def prepared(x: torch.Tensor) -> torch.Tensor:
        x = x.to(device)
        return to_float(x) if x.dtype == torch.uint8 else x

    if batch_size is None or images.shape[0] <= batch_size:
        return model.encode(prepared(images))
    parts = [model.encode(prepared(images[i : i + batch_size])) for i in range(0, images.shape[0], batch_size)]
    return Encoding(_cat([p.style for p in parts]), _cat([p.content for p in parts]))


def _cat(posteriors: Sequence[DiagonalNormal]) -> DiagonalNormal:
    return DiagonalNormal(torch.cat([q.mean for q in posteriors]), torch.cat([q.logvar for q in posteriors]))


def joint(encoding: Encoding) -> DiagonalNormal:
    """The whole latent (content, style) of each image as one (B, 2d) posterior: how the paper pools the
    plain VAE's latent for its baseline line."""
    c, s = encoding.content, encoding.style
    return DiagonalNormal(torch.cat([c.mean, s.mean], -1), torch.cat([c.logvar, s.logvar], -1))


def pool_content(encoding: Encoding, members: torch.Tensor | Sequence[int] | None = None) -> DiagonalNormal:
    """The content posterior of a group pooled from the images ``members`` (all if None): (1, d)."""
    if members is not None and not torch.is_tensor(members):
        members = torch.as_tensor(list(members), dtype=torch.long)
    return pool(encoding.content, members)


def pool_each(evidence: DiagonalNormal, members: torch.Tensor) -> DiagonalNormal:
    """Product of Normals over each row of ``members`` (n, k) indices into ``evidence`` (N, d): (n, d).

    Row r pools the k posteriors ``evidence[members[r]]`` (paper eq. 7), all rows in one vectorised call."""
    rows, count = members.shape
    ids = torch.arange(rows, device=members.device).repeat_interleave(count)
    return product_of_normals(evidence.index(members.flatten()), ids, rows)


def content_variance_by_count(encoding: Encoding) -> torch.Tensor:
    """Mean pooled content variance after pooling the first k images, for k = 1..B: (B,)."""
    count = encoding.content.mean.shape[0]
    return torch.stack([pool_content(encoding, torch.arange(k)).variance.mean() for k in range(1, count + 1)])


def content_variance_each(encoding: Encoding) -> torch.Tensor:
    """Mean content variance of each image alone: (B,)."""
    return encoding.content.variance.mean(-1)


def pool_into(running: DiagonalNormal | None, evidence: DiagonalNormal) -> DiagonalNormal:
    """The pooled content after more evidence: ``running`` (1, d; None before any) times the Normals of
    ``evidence`` (N, d), (1, d). Pooling frame by frame this way gives the pool of all frames (paper eq. 7)."""
    return pool(evidence if running is None else _cat([running, evidence]))


def nearest_distance(codes: torch.Tensor, seen: torch.Tensor) -> torch.Tensor:
    """For each row of ``codes`` (N, d), the RMS distance per dimension to its nearest row of ``seen`` (K, d):
    (N,); infinite when ``seen`` is empty."""
    if seen.shape[0] == 0:
        return torch.full((codes.shape[0],), float("inf"), device=codes.device)
    return torch.cdist(codes, seen).min(dim=1).values / codes.shape[1] ** 0.5


@torch.no_grad()
def decode(model: GroupedVAE, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """Decoded images (B, C, H, W) of content and style codes (B, d) each."""
    return model.decode(content, style)


@torch.no_grad()
def reconstruct(
    model: GroupedVAE, images: torch.Tensor, pooled: bool = False, mode: str = "mean", seed: int | None = 0
) -> torch.Tensor:
    """Reconstructions of ``images`` (B, ...): each alone (strategy 1) or with the content pooled over all B
    images (strategy 2, the images must be of one group)."""
    enc = encode(model, images)
    gen = _generator(seed, _device(model))
    style = pick(enc.style, mode, gen)  # style before content, as in ``swap``: same draws for the same seed
    content = pick(pool_content(enc) if pooled else enc.content, mode, gen)
    if pooled:
        content = content.expand(images.shape[0], -1)
    return decode(model, content, style)


@torch.no_grad()
def swap(
    model: GroupedVAE,
    style_images: torch.Tensor,
    content_images: torch.Tensor,
    content_groups: Sequence[torch.Tensor] | None = None,
    mode: str = "mean",
    seed: int | None = 0,
) -> torch.Tensor:
    """Swap grid (R, K, C, H, W): row r has the style of ``style_images[r]``, column k the content of
    ``content_images[k]``. With ``content_groups[k]`` (extra images of column k's group, (n_k, C, H, W)), the
    content is pooled over the column image and them (strategy 2)."""
    gen = _generator(seed, _device(model))
    style = pick(encode(model, style_images).style, mode, gen)
    content = pick(content_posteriors(model, content_images, content_groups), mode, gen)
    rows, cols = style.shape[0], content.shape[0]
    grid = decode(model, content.repeat(rows, 1), style.repeat_interleave(cols, 0))
    return grid.view(rows, cols, *grid.shape[1:])


def content_posteriors(
    model: GroupedVAE, images: torch.Tensor, groups: Sequence[torch.Tensor] | None = None
) -> DiagonalNormal:
    """Content posterior of each image (K, d), pooled with ``groups[k]`` when given."""
    return pooled_with(model, encode(model, images).content, groups)


def pooled_with(
    model: GroupedVAE, content: DiagonalNormal, groups: Sequence[torch.Tensor] | None = None
) -> DiagonalNormal:
    """Each row k of an encoded ``content`` (K, d) pooled with the content posteriors of ``groups[k]`` when given."""
    if groups is None:
        return content
    pooled = []  # a loop over the (few) columns of a figure; groups differ in size
    for k, extra in enumerate(groups):
        own = DiagonalNormal(content.mean[k : k + 1], content.logvar[k : k + 1])
        if extra is not None and extra.shape[0] > 0:
            other = encode(model, extra).content
            own = DiagonalNormal(torch.cat([own.mean, other.mean]), torch.cat([own.logvar, other.logvar]))
        pooled.append(pool(own))
    return _cat(pooled)


def lerp(a: torch.Tensor, b: torch.Tensor, weight: float) -> torch.Tensor:
    """(1 - weight) * a + weight * b."""
    return a + (b - a) * weight


@torch.no_grad()
def interpolate(
    model: GroupedVAE,
    image_a: torch.Tensor,
    image_b: torch.Tensor,
    style_weight: float,
    content_weight: float,
    mode: str = "mean",
    seed: int | None = 0,
    content_groups: Sequence[torch.Tensor] | None = None,
) -> torch.Tensor:
    """Decode style lerp(s_a, s_b, style_weight) with content lerp(c_a, c_b, content_weight): (1, C, H, W).

    ``image_a``/``image_b`` are (1, C, H, W); weights 0 give a's codes, 1 give b's."""
    grid = interpolation_grid(model, image_a, image_b, [content_weight], [style_weight], mode, seed, content_groups)
    return grid[0, 0:1]


@torch.no_grad()
def interpolation_grid(
    model: GroupedVAE,
    image_a: torch.Tensor,
    image_b: torch.Tensor,
    content_weights: Sequence[float],
    style_weights: Sequence[float],
    mode: str = "mean",
    seed: int | None = 0,
    content_groups: Sequence[torch.Tensor] | None = None,
) -> torch.Tensor:
    """Figure 5b: rows interpolate the content, columns the style: (contents, styles, C, H, W)."""
    ends = interpolation_ends(model, image_a, image_b, mode, seed, content_groups)
    return decode_interpolation(model, ends, content_weights, style_weights)


@torch.no_grad()
def interpolation_ends(
    model: GroupedVAE,
    image_a: torch.Tensor,
    image_b: torch.Tensor,
    mode: str = "mean",
    seed: int | None = 0,
    content_groups: Sequence[torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The codes an interpolation moves between, from one encoding of A, B and their groups: content and style (2, d),
    row 0 A's and row 1 B's (content pooled with ``content_groups`` when given)."""
    pair = torch.cat([image_a, image_b])
    gen = _generator(seed, _device(model))
    enc = encode(model, pair)
    style = pick(enc.style, mode, gen)
    return pick(pooled_with(model, enc.content, content_groups), mode, gen), style


@torch.no_grad()
def decode_interpolation(
    model: GroupedVAE, ends: tuple[torch.Tensor, torch.Tensor], content_weights: Sequence[float],
    style_weights: Sequence[float],
) -> torch.Tensor:
    """Decode ``interpolation_ends``' codes at every pair of weights: (contents, styles, C, H, W)."""
    content, style = ends
    cw = torch.tensor(list(content_weights), dtype=style.dtype, device=style.device).unsqueeze(1)
    sw = torch.tensor(list(style_weights), dtype=style.dtype, device=style.device).unsqueeze(1)
    contents = lerp(content[0:1], content[1:2], cw)  # (R, d)
    styles = lerp(style[0:1], style[1:2], sw)  # (K, d)
    rows, cols = contents.shape[0], styles.shape[0]
    grid = decode(model, contents.repeat_interleave(cols, 0), styles.repeat(rows, 1))
    return grid.view(rows, cols, *grid.shape[1:])


@torch.no_grad()
def generate(model: GroupedVAE, group_images: torch.Tensor, count: int, seed: int | None = 0) -> torch.Tensor:
    """Figure 5a: the group's pooled content mean with ``count`` styles from the prior: (count, C, H, W)."""
    return generate_from(model, pool_content(encode(model, group_images)), count, seed)


@torch.no_grad()
def generate_from(model: GroupedVAE, content: DiagonalNormal, count: int, seed: int | None = 0) -> torch.Tensor:
    """The mean of a content posterior (1, d) with ``count`` styles from the prior: (count, C, H, W)."""
    content = content.mean
    gen = _generator(seed, _device(model))
    style = torch.randn((count, model.style_dim), generator=gen, device=content.device)
    return decode(model, content.expand(count, -1), style)
