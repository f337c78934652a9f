"""Group batch sampler, MNIST split and the folder dataset on real photos."""
import logging
import shutil

import pytest
import torch

from mlvae.config import DataConfig
from mlvae.data import GroupBatchSampler, load_splits
from mlvae.data.images import display_scale, image_to_tensor, tensor_to_image
from mlvae.errors import DataError


def labels(counts):
    return torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts))


def test_sampler_covers_each_image_once_with_group_sizes_in_range():
    groups = labels([30, 2, 7, 55, 12])
    sampler = GroupBatchSampler(groups, groups_per_batch=4, min_size=2, max_size=6, seed=3)
    seen = []
    for batch in sampler:
        assert batch.group_ids.max().item() + 1 == batch.num_groups <= 4
        for g in range(batch.num_groups):
            members = batch.indices[batch.group_ids == g]
            assert 2 <= len(members) <= 6
            assert len(set(groups[members].tolist())) == 1  # a group never mixes dataset groups
        seen.extend(batch.indices.tolist())
    assert sorted(seen) == list(range(len(groups)))


@pytest.mark.parametrize("min_size,max_size", [(2, 2), (2, 3), (3, 4), (4, 10), (5, 5), (1, 10)])
def test_sampler_group_sizes_hold_both_bounds_every_epoch(min_size, max_size):
    counts = [1, 2, 3, 4, 5, 7, 9, 11, 13, 30, 31, 57]
    groups = labels(counts)
    sampler = GroupBatchSampler(groups, groups_per_batch=5, min_size=min_size, max_size=max_size, seed=7)
    for epoch in range(10):
        sampler.set_epoch(epoch)
        seen = []
        for batch in sampler:
            sizes = torch.bincount(batch.group_ids, minlength=batch.num_groups)
            assert sizes.min().item() >= min_size and sizes.max().item() <= max_size
            seen.extend(batch.indices.tolist())
        assert len(seen) == len(set(seen))  # no image twice in an epoch
        per_group = torch.bincount(groups[torch.tensor(seen)], minlength=len(counts))
        for count, drawn in zip(counts, per_group.tolist(), strict=True):
            if count < min_size:
                assert drawn == 0  # too small to form a group of the minimum size: never drawn
            else:  # at most a remainder smaller than the minimum waits for a later epoch
                assert count - min_size < drawn <= count


def test_no_minibatch_holds_a_single_image():
    # 9 groups of one image, 4 groups a batch: the old sampler's last batch was one image, and BatchNorm
    # cannot train on one ("Expected more than 1 value per channel when training")
    groups = labels([1] * 9)
    batches = list(GroupBatchSampler(groups, groups_per_batch=4, min_size=1, max_size=1, seed=0))
    assert min(b.indices.numel() for b in batches) >= 2
    assert sum(b.indices.numel() for b in batches) == 9
    mnist_like = labels([5421, 6742, 5958, 6131, 5842, 5918, 6265, 5949, 6851, 5923])
    sampler = GroupBatchSampler(mnist_like, groups_per_batch=64, min_size=2, max_size=10, seed=0)
    for epoch in range(10):
        sampler.set_epoch(epoch)
        for batch in sampler:
            assert batch.indices.numel() >= 2
            assert torch.bincount(batch.group_ids).min().item() >= 2


def test_sampler_caps_the_images_one_group_gives_an_epoch():
    groups = labels([100, 8])
    sampler = GroupBatchSampler(groups, groups_per_batch=4, min_size=2, max_size=5, seed=0, max_per_group=30)
    drawn = []
    for epoch in range(2):
        sampler.set_epoch(epoch)
        indices = torch.cat([b.indices for b in sampler])
        assert torch.bincount(groups[indices]).tolist() == [30, 8]
        drawn.append(set(indices.tolist()))
    assert drawn[0] != drawn[1]  # a different 30 of the 100 each epoch


def test_sampler_draws_groups_of_one_when_allowed_and_is_seeded_per_epoch():
    groups = labels([40] * 5)
    sampler = GroupBatchSampler(groups, groups_per_batch=8, min_size=1, max_size=4, seed=0)
    sizes = [torch.bincount(b.group_ids).tolist() for b in sampler]
    assert 1 in sum(sizes, [])
    first = [b.indices.tolist() for b in sampler]
    assert first == [b.indices.tolist() for b in sampler]
    sampler.set_epoch(1)
    assert first != [b.indices.tolist() for b in sampler]


def test_sampler_deals_whole_groups_to_ranks_without_overlap():
    groups = labels([25] * 8)
    ranks = [GroupBatchSampler(groups, 3, 1, 5, seed=1, rank=r, world_size=2) for r in range(2)]
    batches = [list(s) for s in ranks]
    assert len(batches[0]) == len(batches[1])
    taken = [set(torch.cat([b.indices for b in bs]).tolist()) for bs in batches]
    assert not taken[0] & taken[1]


def test_mnist_uses_the_papers_split(mnist_splits):
    assert (len(mnist_splits.train), len(mnist_splits.val), len(mnist_splits.test)) == (50000, 10000, 10000)
    assert mnist_splits.train.images.shape[1:] == (1, 28, 28)
    assert mnist_splits.train.num_groups == 10
    again = load_splits(DataConfig(dataset="mnist"))
    assert torch.equal(again.val.groups, mnist_splits.val.groups)
    val = set(mnist_splits.record["val_indices"])
    assert len(val) == 10000 and max(val) < 60000


@pytest.fixture
def face_folder(shared_data, tmp_path):
    """Real CelebA photos copied to a temporary folder (never into the repository)."""
    source = shared_data / "faces-celeba200"
    people = sorted(p for p in source.iterdir() if p.is_dir())[:12]
    for person in people:
        target = tmp_path / "faces" / person.name
        target.mkdir(parents=True)
        for photo in sorted(person.glob("*.jpg"))[:4]:
            shutil.copy(photo, target / photo.name)
    return tmp_path / "faces"


def test_folder_dataset_reads_real_photos_and_splits_groups_disjointly(face_folder):
    config = DataConfig(dataset="folder", data_dir=str(face_folder), image_size=64, image_channels=3,
                        crop_fraction=0.8, val_fraction=0.25, test_fraction=0.25)
    splits = load_splits(config)
    assert splits.train.images.shape[1:] == (3, 64, 64) and splits.train.images.dtype == torch.uint8
    parts = splits.record["groups"]
    assert not set(parts["train"]) & set(parts["val"]) and not set(parts["train"]) & set(parts["test"])
    assert len(parts["train"]) + len(parts["val"]) + len(parts["test"]) == 12
    assert len(splits.train) + len(splits.val) + len(splits.test) == 48
    assert splits.train.images.float().std() > 20  # real photos, not blank


def test_folder_dataset_skips_unreadable_files_and_warns_about_single_image_groups(face_folder, caplog):
    (face_folder / sorted(p.name for p in face_folder.iterdir())[0] / "broken.jpg").write_text("not an image")
    lonely = face_folder / "zz-lonely"
    lonely.mkdir()
    shutil.copy(next(face_folder.glob("*/*.jpg")), lonely / "only.jpg")
    config = DataConfig(dataset="folder", data_dir=str(face_folder), image_size=64, image_channels=3)
    with caplog.at_level(logging.WARNING):
        splits = load_splits(config)
    assert len(splits.train) + len(splits.val) + len(splits.test) == 49
    text = caplog.text
    assert "broken.jpg" in text and "skipped 1 unreadable" in text
    assert "single image" in text and "zz-lonely" in text


@pytest.mark.parametrize("kind", ["missing", "empty", "file"])
def test_folder_dataset_bad_folder_gets_a_clear_message(tmp_path, kind):
    target = tmp_path / "data"
    if kind == "empty":
        target.mkdir()
    elif kind == "file":
        target.write_text("x")
    with pytest.raises(DataError, match=str(target)):
        load_splits(DataConfig(dataset="folder", data_dir=str(target), image_size=64, image_channels=3))


def test_mnist_missing_folder_gets_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match="MNIST could not be read"):
        load_splits(DataConfig(dataset="mnist", data_dir=str(tmp_path / "nowhere")))


def test_tensor_to_image_inverts_image_to_tensor_and_enlarges_small_images():
    colour = torch.randint(0, 256, (3, 5, 7), dtype=torch.uint8)
    assert image_to_tensor(tensor_to_image(colour)).equal(colour)
    grey = torch.rand(1, 4, 4)
    shown = tensor_to_image(grey, scale=3)
    assert shown.mode == "L" and shown.size == (12, 12)
    assert image_to_tensor(shown)[0, ::3, ::3].equal((grey[0] * 255).round().to(torch.uint8))
    assert [display_scale(side) for side in (16, 28, 56, 64)] == [4, 2, 1, 1]
