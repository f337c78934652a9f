"""The project's own face network (``python -m mlvae.face_features``) and the feature term (``--feature-weight``)."""
import dataclasses
import json

import pytest
import torch
from safetensors.torch import load_file

from mlvae.checkpoint.folder import read_config
from mlvae.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from mlvae.data import load_splits
from mlvae.training.face_network import (
    FEATURES_RECORD,
    FaceFeatureConfig,
    FaceFeatureNet,
    FeatureNetError,
    load_face_features,
    margin_logits,
    people_of,
    random_shift,
)
from mlvae.training.face_network_cli import main
from mlvae.training.trainer import Trainer


@pytest.fixture(scope="module")
def faces_run(face_dir, tmp_path_factory):
    """A tiny faces run on 16 real CelebA people (linked, not copied), recording its data folder, and its splits."""
    subset = tmp_path_factory.mktemp("people")
    for folder in sorted(p for p in face_dir.iterdir() if p.is_dir())[:16]:
        (subset / folder.name).symlink_to(folder, target_is_directory=True)
    config = RunConfig(
        model=ModelConfig(architecture="conv", latent_dim=8, style_dim=4, width=0.125,
                          likelihood="normal-fixed"),
        data=DataConfig(dataset="folder", data_dir=str(subset), image_size=64, image_channels=3, crop_fraction=0.8,
                        val_fraction=0.25, test_fraction=0.25),
        train=TrainConfig(epochs=1, groups_per_batch=4, max_steps=2, device="cpu"),
    )
    splits = load_splits(config.data)
    out = tmp_path_factory.mktemp("run")
    Trainer(config, splits, out).fit()
    return out, splits


@pytest.fixture(scope="module")
def feature_net(faces_run, tmp_path_factory):
    run, _ = faces_run
    out = tmp_path_factory.mktemp("features") / "net"
    assert main([str(run), "--out", str(out), "--epochs", "1"]) == 0
    return out


def test_the_face_network_learns_the_training_people_of_the_split_and_no_one_else(faces_run, feature_net):
    _, splits = faces_run
    learnt = set(json.loads((feature_net / FEATURES_RECORD).read_text())["people"])
    held_out = set(people_of(splits.val)) | set(people_of(splits.test))
    assert learnt == set(people_of(splits.train)) and len(learnt) >= 8
    assert held_out and not learnt & held_out
    net = load_face_features(feature_net, learnt)
    assert net.classifier.out_features == len(learnt) and not net.training
    assert all(not p.requires_grad for p in net.parameters())
    e = net.embed(torch.rand(3, 3, 64, 64))
    assert e.shape == (3, 128) and torch.allclose(e.norm(dim=-1), torch.ones(3))


def test_a_network_that_learnt_a_held_out_person_is_refused(faces_run, feature_net, tmp_path):
    _, splits = faces_run
    leaked = tmp_path / "leaked"
    leaked.mkdir()
    (leaked / "face_features.safetensors").write_bytes((feature_net / "face_features.safetensors").read_bytes())
    record = json.loads((feature_net / FEATURES_RECORD).read_text())
    record["people"].append(people_of(splits.test)[0])
    (leaked / FEATURES_RECORD).write_text(json.dumps(record))
    with pytest.raises(FeatureNetError, match="not training people of this run"):
        load_face_features(leaked, set(people_of(splits.train)))
    with pytest.raises(FeatureNetError, match="not a readable face-feature folder"):
        load_face_features(tmp_path / "missing", set(people_of(splits.train)))


def test_the_feature_term_changes_the_decoders_training(faces_run, feature_net, tmp_path):
    run, splits = faces_run
    config = read_config(run)
    weights = {}
    for name, extra in (("plain", {}), ("features", {"feature_weight": 0.5, "feature_net": str(feature_net)})):
        train = dataclasses.replace(config.train, max_steps=2, **extra)
        torch.manual_seed(0)
        Trainer(dataclasses.replace(config, train=train), splits, tmp_path / name).fit()
        weights[name] = load_file(str(tmp_path / name / "last" / "model.safetensors"))
    assert any(not torch.equal(weights["plain"][k], weights["features"][k]) for k in weights["plain"]
               if k.startswith("decoder."))
    assert json.loads((tmp_path / "features" / "config.json").read_text())["train"]["feature_net"] == str(feature_net)


def test_feature_flags_go_together():
    with pytest.raises(ValueError, match="--feature-weight and --feature-net go together"):
        TrainConfig(feature_weight=1.0)
    with pytest.raises(ValueError, match="--feature-weight must be a number >= 0"):
        TrainConfig(feature_weight=-1.0, feature_net="x")


def test_random_shift_moves_each_image_by_its_own_offset_within_the_bound():
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 8, 8] = 1.0  # one bright pixel per image, away from the edges
    moved = random_shift(x, 3)
    assert moved.shape == x.shape
    where = moved.flatten(1).argmax(-1)
    rows, cols = where // 16, where % 16
    assert torch.all(moved.flatten(1).sum(-1) == 1.0)  # the pixel moved, nothing was smeared or lost
    assert (rows - 8).abs().max() <= 3 and (cols - 8).abs().max() <= 3
    assert len({(r, c) for r, c in zip(rows.tolist(), cols.tolist(), strict=True)}) > 10  # offsets differ per image


def test_a_cosine_margin_makes_the_same_logits_cost_more():
    torch.manual_seed(0)
    net = FaceFeatureNet(FaceFeatureConfig(people=5, width=4))
    x, y = torch.rand(8, 3, 64, 64), torch.arange(8) % 5
    logits = net(x)
    plain = torch.nn.functional.cross_entropy(logits, y)
    with_margin = torch.nn.functional.cross_entropy(margin_logits(logits, y, 0.35), y)
    assert with_margin > plain
    assert torch.equal(margin_logits(logits, y, 0.0), logits)


@pytest.mark.parametrize("flag, value, message", [("--margin", "1.5", "--margin is a cosine margin"),
                                                  ("--shift", "-1", "--shift is a number of pixels")])
def test_face_network_flags_out_of_range_are_refused_by_name(flag, value, message, caplog, tmp_path):
    assert main(["faces", "--out", str(tmp_path / "net"), flag, value]) != 0
    assert message in caplog.text and not (tmp_path / "net").exists()
