"""The conv decoder's two labelled departures (``--upsampling resize``, ``--decoder-res-blocks``): what they change,
what they promise, and that the paper's decoder (the default) is the one every shipped config.json still builds."""
import pytest
import torch
from torch import nn

from mlvae import MLVAE
from mlvae.config import DataConfig, ModelConfig, RunConfig
from mlvae.model.networks import ConvDecoder, ResidualBlock, upsampling_layer


def conv_config(**kw) -> ModelConfig:
    return ModelConfig(architecture="conv", width=0.125, latent_dim=6, style_dim=2, likelihood="normal-fixed", **kw)


def test_the_default_decoder_is_the_papers_and_keeps_its_weight_names():
    decoder = ConvDecoder(conv_config())
    kinds = [type(m) for m in decoder.deconvs]
    assert kinds.count(nn.ConvTranspose2d) == 3 and ResidualBlock not in kinds and nn.Upsample not in kinds
    # the names a shipped model.safetensors holds (tests/test_shipped_checkpoints.py loads them strictly)
    assert "deconvs.0.weight" in decoder.state_dict() and "deconvs.6.weight" in decoder.state_dict()


@pytest.mark.parametrize("upsampling,blocks", [("resize", 0), ("resize", 2), ("transposed", 1)])
def test_each_option_gives_64x64_images_and_the_asked_for_blocks(upsampling, blocks):
    config = conv_config(upsampling=upsampling, decoder_res_blocks=blocks)
    decoder = ConvDecoder(config).eval()
    mean, _ = decoder(torch.randn(3, 8)).params
    assert mean.shape == (3, 3, 64, 64)
    residual = [m for m in decoder.deconvs if isinstance(m, ResidualBlock)]
    assert len(residual) == 2 * blocks  # after the 32x32 and the 64x64 upsampling
    assert (any(isinstance(m, nn.ConvTranspose2d) for m in decoder.modules())) == (upsampling == "transposed")


def test_resize_then_convolve_draws_no_checkerboard_where_the_transposed_conv_does():
    torch.manual_seed(0)
    flat = torch.ones(1, 4, 8, 8)
    for mode, periodic in (("transposed", True), ("resize", False)):
        layer = upsampling_layer(4, 4, mode)
        with torch.no_grad():
            out = layer(flat)[0, :, 2:-2, 2:-2]  # away from the border
        spread = float((out - out.mean(dim=(1, 2), keepdim=True)).abs().max())
        assert (spread > 1e-3) == periodic, (mode, spread)


def test_the_options_round_trip_through_config_json_and_bad_values_are_named():
    config = RunConfig(model=conv_config(upsampling="resize", decoder_res_blocks=1))
    again = RunConfig.from_dict(config.to_dict())
    assert again.model.upsampling == "resize" and again.model.decoder_res_blocks == 1
    old = config.to_dict()
    del old["model"]["upsampling"], old["model"]["decoder_res_blocks"]  # a config.json written before the options
    assert RunConfig.from_dict(old).model.upsampling == "transposed"
    with pytest.raises(ValueError, match="upsampling must be one of transposed, resize"):
        conv_config(upsampling="bilinear")
    with pytest.raises(ValueError, match="decoder_res_blocks must be from 0 to 16"):
        conv_config(decoder_res_blocks=-1)


def test_a_model_with_both_options_trains_a_step():
    torch.manual_seed(0)
    model = MLVAE(conv_config(upsampling="resize", decoder_res_blocks=1))
    x, groups = torch.rand(6, 3, 64, 64), torch.tensor([0, 0, 0, 1, 1, 1])
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = model.decoder.deconvs[-1].body[0].weight.clone()
    model(x, groups).loss.backward()
    optimiser.step()
    assert not torch.equal(before, model.decoder.deconvs[-1].body[0].weight)


def test_each_network_departure_is_named_in_words_and_the_papers_networks_name_none():
    from mlvae.config import model_departures

    assert model_departures(conv_config()) == []
    named = model_departures(conv_config(upsampling="resize", decoder_res_blocks=1, content_logvar_bound=10))
    assert len(named) == 3
    assert any("±10" in t for t in named) and any("resizing" in t for t in named)
    assert any("1 residual block" in t for t in named)


def test_the_demos_about_names_a_network_departure(tmp_path):
    from demo.computing.model_description import about
    from demo.models import load_registry
    from mlvae.checkpoint.folder import save_model

    config = RunConfig(model=conv_config(upsampling="resize", decoder_res_blocks=1),
                       data=DataConfig(dataset="folder", image_size=64, image_channels=3))
    save_model(tmp_path / "resized", MLVAE(config.model), config)
    text = about(load_registry([str(tmp_path / "resized")], include_shipped=False).get("resized"))
    assert "**Departure from the paper**: the decoder doubles its resolution by resizing" in text
