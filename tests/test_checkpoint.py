"""Checkpoint folders: round trip, half precision, atomic writes, clear errors."""
import dataclasses
import json

import pytest
import torch

from mlvae import MLVAE, ModelConfig, RunConfig, load_model, save_model
from mlvae.checkpoint.folder import WEIGHTS_NAME, atomic_write
from mlvae.errors import CheckpointError


def conv_config():
    return ModelConfig(architecture="conv", latent_dim=8, width=0.125)


@pytest.mark.parametrize("make", [lambda: ModelConfig(latent_dim=4, hidden_dim=32), conv_config])
def test_save_load_round_trip_gives_identical_outputs(tmp_path, make):
    torch.manual_seed(0)
    model = MLVAE(make())
    # move BatchNorm running statistics away from their defaults so that they are checked too
    model.train()
    x = torch.rand(8, model.config.image_channels, model.config.image_size, model.config.image_size)
    model.encode(x)
    model.eval()
    save_model(tmp_path / "ckpt", model, RunConfig(model=model.config))
    loaded, config = load_model(tmp_path / "ckpt")
    assert config.model == model.config
    with torch.no_grad():
        a, b = model.encode(x), loaded.encode(x)
        torch.testing.assert_close(a.content.mean, b.content.mean, rtol=0, atol=0)
        torch.testing.assert_close(a.style.logvar, b.style.logvar, rtol=0, atol=0)
        torch.testing.assert_close(model.decode(a.content.mean, a.style.mean),
                                   loaded.decode(a.content.mean, a.style.mean), rtol=0, atol=0)


def test_half_precision_on_disk_stays_within_tolerance(tmp_path):
    torch.manual_seed(0)
    model = MLVAE(ModelConfig(latent_dim=4, hidden_dim=32)).eval()
    save_model(tmp_path / "half", model, RunConfig(model=model.config), half=True)
    save_model(tmp_path / "full", model, RunConfig(model=model.config))
    assert (tmp_path / "half" / WEIGHTS_NAME).stat().st_size < 0.6 * (tmp_path / "full" / WEIGHTS_NAME).stat().st_size
    loaded, _ = load_model(tmp_path / "half")
    x = torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(loaded.decode(*[t.mean for t in (loaded.encode(x).content, loaded.encode(x).style)]),
                                   model.decode(model.encode(x).content.mean, model.encode(x).style.mean),
                                   atol=5e-3, rtol=0)


def test_corrupt_weights_get_a_message_naming_the_file(tmp_path):
    model = MLVAE(ModelConfig(latent_dim=4, hidden_dim=32))
    folder = save_model(tmp_path / "ckpt", model, RunConfig(model=model.config))
    weights = folder / WEIGHTS_NAME
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="model.safetensors is corrupt"):
        load_model(folder)


def test_config_that_does_not_match_the_weights_is_reported(tmp_path):
    model = MLVAE(ModelConfig(latent_dim=4, hidden_dim=32))
    folder = save_model(tmp_path / "ckpt", model, RunConfig(model=model.config))
    raw = json.loads((folder / "config.json").read_text())
    raw["model"]["latent_dim"] = 6
    (folder / "config.json").write_text(json.dumps(raw))
    with pytest.raises(CheckpointError, match="does not match"):
        load_model(folder)
    raw["model"]["latent_dim"] = "ten"
    raw["model"]["bogus"] = 1
    (folder / "config.json").write_text(json.dumps(raw))
    with pytest.raises(CheckpointError, match="not a valid mlvae config"):
        load_model(folder)


def test_the_image_shape_is_the_architectures_and_old_configs_that_state_it_still_load(tmp_path):
    config = conv_config()
    assert config.image_shape == (3, 64, 64) and ModelConfig().image_shape == (1, 28, 28)
    assert "image_size" not in RunConfig(model=config).to_dict()["model"]  # derived, not stored
    folder = save_model(tmp_path / "ckpt", MLVAE(config), RunConfig(model=config))
    raw = json.loads((folder / "config.json").read_text())
    raw["model"].update(image_channels=3, image_size=64)  # as older checkpoints state it
    (folder / "config.json").write_text(json.dumps(raw))
    assert load_model(folder)[1].model.image_shape == (3, 64, 64)
    raw["model"]["image_size"] = 32  # a shape the architecture does not take
    (folder / "config.json").write_text(json.dumps(raw))
    with pytest.raises(CheckpointError, match="the conv architecture takes 64x64 images of 3 channel"):
        load_model(folder)
    with pytest.raises(ValueError, match="the mlp architecture takes 28x28"):
        ModelConfig.from_dict({"image_size": 64})
    assert dataclasses.replace(ModelConfig(), architecture="conv").image_shape == (3, 64, 64)


def test_unknown_name_lists_what_can_be_loaded(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_model("no-such-model")


def test_interrupted_write_leaves_the_previous_file(tmp_path):
    target = tmp_path / "model.safetensors"
    target.write_bytes(b"good")

    def crash(tmp):
        tmp.write_bytes(b"half-writ")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, crash)
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temporary left behind
