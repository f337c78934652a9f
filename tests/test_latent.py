"""Latent operations (mlvae.latent) on a real model trained briefly on real MNIST."""
from __future__ import annotations

import pytest
import torch

from mlvae import latent, load_model
from mlvae.data.images import to_float
from mlvae.model.posterior import DiagonalNormal


@pytest.fixture(scope="module")
def model(tiny_mnist_runs):
    return load_model(tiny_mnist_runs["mlvae"])[0]


@pytest.fixture(scope="module")
def digits(mnist_splits):
    """Test images (float) of digit 3 and of a mix of digits."""
    test = mnist_splits.test
    threes = to_float(test.images[test.members(3)[:60]])
    mixed = to_float(test.images[:6])
    return threes, mixed


@pytest.mark.parametrize("mode", ["mean", "sample"])
def test_swap_with_identical_inputs_is_the_reconstruction(model, digits, mode):
    _, x = digits
    grid = latent.swap(model, x, x, mode=mode, seed=3)
    diagonal = grid.diagonal(dim1=0, dim2=1).movedim(-1, 0)
    torch.testing.assert_close(diagonal, latent.reconstruct(model, x, mode=mode, seed=3))
    assert not torch.allclose(grid[0, 1], grid[0, 0], atol=1e-3)  # other columns decode another content


def test_swap_pooled_with_the_rest_of_the_group_is_the_pooled_reconstruction(model, digits):
    threes, _ = digits
    x = threes[:5]
    others = [torch.cat([x[:i], x[i + 1 :]]) for i in range(len(x))]
    grid = latent.swap(model, x, x, content_groups=others, mode="mean")
    diagonal = grid.diagonal(dim1=0, dim2=1).movedim(-1, 0)
    torch.testing.assert_close(diagonal, latent.reconstruct(model, x, pooled=True, mode="mean"), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("mode", ["mean", "sample"])
def test_interpolation_at_zero_and_one_returns_the_endpoints(model, digits, mode):
    _, x = digits
    a, b = x[0:1], x[1:2]
    swaps = latent.swap(model, x[:2], x[:2], mode=mode, seed=5)  # row: style of, column: content of
    for style_weight, content_weight, row, col in ((0, 0, 0, 0), (1, 1, 1, 1), (0, 1, 0, 1), (1, 0, 1, 0)):
        image = latent.interpolate(model, a, b, style_weight, content_weight, mode=mode, seed=5)
        torch.testing.assert_close(image[0], swaps[row, col])
    grid = latent.interpolation_grid(model, a, b, [0.0, 0.5, 1.0], [0.0, 0.5, 1.0], mode=mode, seed=5)
    torch.testing.assert_close(grid[0, 0], swaps[0, 0])
    torch.testing.assert_close(grid[-1, -1], swaps[1, 1])
    assert not torch.allclose(grid[1, 1], grid[0, 0], atol=1e-3)


def test_pooling_more_images_never_increases_the_content_variance(model, digits):
    threes, _ = digits
    encoding = latent.encode(model, threes)
    variances = torch.cat([latent.pool_content(encoding, range(k)).variance for k in range(1, len(threes) + 1)])
    assert (variances[1:] <= variances[:-1] * (1 + 1e-5)).all()  # per dimension, k -> k + 1
    assert (variances[-1] < variances[0]).all()
    per_count = latent.content_variance_by_count(encoding)
    torch.testing.assert_close(per_count, variances.mean(1))


def test_pool_each_pools_every_row_like_pool_content(model, digits):
    threes, _ = digits
    encoding = latent.encode(model, threes[:12])
    members = torch.tensor([[0, 1, 2], [5, 3, 11], [7, 7, 7]])
    pooled = latent.pool_each(encoding.content, members)
    for r, row in enumerate(members):
        single = latent.pool_content(encoding, row)
        torch.testing.assert_close(pooled.mean[r], single.mean[0])
        torch.testing.assert_close(pooled.logvar[r], single.logvar[0])


def test_encode_in_batches_and_from_uint8_matches_one_call(model, mnist_splits):
    raw = mnist_splits.test.images[:50]
    whole = latent.encode(model, to_float(raw))
    batched = latent.encode(model, raw, batch_size=16)
    for a, b in ((whole.style, batched.style), (whole.content, batched.content)):
        torch.testing.assert_close(a.mean, b.mean)
        torch.testing.assert_close(a.logvar, b.logvar)


def test_joint_latent_is_content_then_style(model, digits):
    _, x = digits
    encoding = latent.encode(model, x)
    both = latent.joint(encoding)
    assert isinstance(both, DiagonalNormal) and both.mean.shape == (len(x), 2 * model.latent_dim)
    torch.testing.assert_close(both.mean[:, : model.latent_dim], encoding.content.mean)
    torch.testing.assert_close(both.logvar[:, model.latent_dim :], encoding.style.logvar)


def test_generation_is_seeded_and_uses_the_pooled_content_mean(model, digits):
    threes, _ = digits
    first = latent.generate(model, threes[:10], count=4, seed=1)
    torch.testing.assert_close(first, latent.generate(model, threes[:10], count=4, seed=1))
    assert not torch.allclose(first, latent.generate(model, threes[:10], count=4, seed=2))
    content = latent.pool_content(latent.encode(model, threes[:10])).mean.expand(4, -1)
    style = torch.randn((4, model.latent_dim), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(first, latent.decode(model, content, style))
