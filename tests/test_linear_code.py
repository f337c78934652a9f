"""The linear reference of the identity evaluation (``mlvae.evaluation.linear_code``): a PCA of a given size, and
the training photos it is fitted to (never a validation or test person)."""
import json

import torch

from mlvae.config import DataConfig
from mlvae.evaluation.held_out import load_training_photos
from mlvae.evaluation.linear_code import fit_linear_code


def test_a_linear_code_reconstructs_images_of_its_subspace_and_its_size_orders_the_error():
    torch.manual_seed(0)
    basis = torch.linalg.qr(torch.randn(3 * 8 * 8, 5))[0]
    images = (0.5 + 0.05 * torch.randn(200, 5) @ basis.T).clamp(0, 1).reshape(200, 3, 8, 8)
    code = fit_linear_code(images, 5)
    assert code.size == 5 and torch.allclose(code.basis.T @ code.basis, torch.eye(5), atol=1e-4)
    assert (code.reconstruct(images) - images).abs().max() < 1e-3  # 5 components hold a 5-d subspace
    noisy = torch.rand(300, 3, 8, 8)
    errors = [(fit_linear_code(noisy, d).reconstruct(noisy) - noisy).square().mean() for d in (4, 32, 128)]
    assert errors[0] > errors[1] > errors[2]  # more components, less error on the photos it was fitted to


def test_uint8_images_are_read_in_unit_range_and_size_is_capped_by_the_photos():
    images = torch.randint(0, 256, (10, 3, 4, 4), dtype=torch.uint8)
    code = fit_linear_code(images, 50)
    assert code.size == 9 and 0 <= float(code.mean.min()) and float(code.mean.max()) <= 1


def test_training_photos_come_only_from_the_splits_training_groups(tmp_path):
    from PIL import Image

    data = tmp_path / "people"
    for person in ("ann", "bob", "cy", "dee"):
        (data / person).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (32, 32), (10 * i, 0, 0)).save(data / person / f"{i}.png")
    folder = tmp_path / "ckpt"
    folder.mkdir()
    split = {"data_dir": str(data), "groups": {"train": ["ann", "bob"], "val": ["cy"], "test": ["dee"]}}
    (folder / "split.json").write_text(json.dumps(split))
    config = DataConfig(dataset="folder", data_dir=str(data), image_size=64, image_channels=3)
    photos = load_training_photos(folder, config, max_images=100)
    assert sorted(photos.group_names) == ["ann", "bob"] and len(photos) == 6
    assert len(load_training_photos(folder, config, max_images=2)) == 2
