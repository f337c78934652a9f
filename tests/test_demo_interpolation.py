"""The Interpolate tab's endpoint: the slider image and the grid come from one encoding of A, B and their groups."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from demo.computing import computations
from demo.inputs.photos import Photos
from demo.models import DemoModel
from demo.results.axis_labels import interpolation_axes
from demo.results.sheets import grid_sheet, single_image
from mlvae import latent, load_model
from mlvae.data.images import to_float


@pytest.fixture(scope="module")
def digits_model(tiny_mnist_runs) -> DemoModel:
    model, config = load_model(tiny_mnist_runs["mlvae"])
    folder = tiny_mnist_runs["mlvae"]
    return DemoModel(name="tiny", label="tiny", source=str(folder), folder=folder, model=model, config=config,
                     card=None)


def photos(images: torch.Tensor) -> Photos:
    """Prepared photos as the demo reads them."""
    return Photos(images, [f"{i}.png" for i in range(len(images))], given=len(images), indices=list(range(len(images))))


def test_the_slider_image_and_the_grid_encode_each_photo_once(digits_model, mnist_splits, monkeypatch):
    test = mnist_splits.test
    a, b = photos(test.images[test.members(3)[:4]]), photos(test.images[test.members(8)[:3]])
    encoded = []
    real_encode = latent.encode
    monkeypatch.setattr(latent, "encode",
                        lambda model, x, *rest: encoded.append(len(x)) or real_encode(model, x, *rest))
    image, grid = computations.interpolation_and_grid(digits_model, a, b, 1 / 6, 5 / 6)
    assert sum(encoded) == len(a) + len(b)  # A, B and the rest of their groups, each once
    monkeypatch.setattr(latent, "encode", real_encode)
    alone = computations.interpolation(digits_model, a, b, 1 / 6, 5 / 6)  # what a slider release recomputes
    assert np.array_equal(np.asarray(image), np.asarray(alone))
    xa, xb = to_float(a.images), to_float(b.images)
    weights = torch.linspace(0, 1, computations.GRID_STEPS).tolist()
    cells = latent.interpolation_grid(digits_model.model, xa[:1], xb[:1], weights, weights,
                                      content_groups=[xa[1:], xb[1:]])
    assert np.array_equal(np.asarray(grid), np.asarray(interpolation_axes(grid_sheet(cells))))
    assert not np.array_equal(np.asarray(image), np.asarray(single_image(cells[0, 0])))  # the sliders were used
