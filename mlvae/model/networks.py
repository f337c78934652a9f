"""Encoder and decoder networks of supplement §2.1.

Encoders return four heads: style mean/log-variance (B, d_s) and content mean/log-variance (B, d), where
d_s = d unless ``style_dim`` says otherwise. Decoders map (B, d + d_s) latents (content first, then style) to
the parameter maps of their likelihood (``mlvae.model.likelihood``), which makes its parameters from them.
Every log-variance is squashed by 5*tanh (supplement §2.1), which bounds it to (-5, 5); the encoder's style and
content log-variances may be given a wider bound (``style_logvar_bound``, ``content_logvar_bound``).
"""
from __future__ import annotations

import torch
from torch import nn

from mlvae.config import ModelConfig
from mlvae.model.likelihood import Decoded, likelihood_of
from mlvae.model.posterior import bounded_logvar


class EncoderHeads(nn.Module):
    """The four linear heads e_{m,s}, e_{v,s}, e_{m,c}, e_{v,c} as one matmul."""

    def __init__(self, in_features: int, config: ModelConfig) -> None:
        super().__init__()
        self.sizes = [config.style_size, config.style_size, config.latent_dim, config.latent_dim]
        self.linear = nn.Linear(in_features, sum(self.sizes))
        self.style_bound, self.content_bound = config.style_logvar_bound, config.content_logvar_bound

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, F) -> style mean, style logvar (B, d_s), content mean, content logvar (B, d)."""
        s_mean, s_raw, c_mean, c_raw = self.linear(h).split(self.sizes, dim=-1)
        return s_mean, bounded_logvar(s_raw, self.style_bound), c_mean, bounded_logvar(c_raw, self.content_bound)


class MLPEncoder(nn.Module):
    """MNIST encoder: 784 -> 500 tanh -> heads."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        in_features = config.image_channels * config.image_size**2
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(in_features, config.hidden_dim), nn.Tanh())
        self.heads = EncoderHeads(config.hidden_dim, config)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(B, C, H, W) -> four (B, d) heads."""
        return self.heads(self.body(x))


class MLPDecoder(nn.Module):
    """MNIST decoder: 2d -> 500 tanh -> the likelihood's parameter maps of 784 pixels."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.shape = config.image_shape
        self.likelihood = likelihood_of(config)
        pixels = config.image_channels * config.image_size**2
        self.net = nn.Sequential(
            nn.Linear(latent_size(config), config.hidden_dim), nn.Tanh(),
            nn.Linear(config.hidden_dim, self.likelihood.maps * pixels),
        )

    def forward(self, z: torch.Tensor) -> Decoded:
        """(B, d + d_s) -> the likelihood's parameters, each (B, C, H, W)."""
        maps = self.net(z).chunk(self.likelihood.maps, dim=-1)
        return self.likelihood.decoded([m.reshape(-1, *self.shape) for m in maps])


class CReLU(nn.Module):
    """Concatenated ReLU: [relu(x), relu(-x)], doubling the features."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.relu(x), torch.relu(-x)], dim=-1)


def latent_size(config: ModelConfig) -> int:
    """Decoder input size: content d plus style d_s."""
    return config.latent_dim + config.style_size


def _channels(base: int, width: float) -> int:
    return max(4, int(round(base * width)))


class ConvEncoder(nn.Module):
    """64x64 colour encoder: 4 convs (64/128/256/512 x width, k4 s2) + BN + ReLU, 2 x (linear 256 + BN + CReLU)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        chans = [config.image_channels] + [_channels(c, config.width) for c in (64, 128, 256, 512)]
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:], strict=True):
            # ReLU in place on BatchNorm's output, which BatchNorm's backward does not need: one activation-sized
            # allocation and pass less per layer (benchmarks/train_throughput.py --levers)
            layers += [nn.Conv2d(cin, cout, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(cout),
                       nn.ReLU(inplace=True)]
        self.convs = nn.Sequential(*layers, nn.Flatten())
        self.dense = nn.Sequential(
            nn.Linear(chans[-1] * 4 * 4, 256, bias=False), nn.BatchNorm1d(256), CReLU(),
            nn.Linear(512, 256, bias=False), nn.BatchNorm1d(256), CReLU(),
        )
        self.heads = EncoderHeads(512, config)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(B, 3, 64, 64) -> four (B, d) heads."""
        return self.heads(self.dense(self.convs(x)))


class ResidualBlock(nn.Module):
    """x + BN(conv3(ReLU(BN(conv3(x))))), then ReLU: capacity at one resolution without changing its shape."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        return torch.relu(x + self.body(x))


def upsampling_layer(cin: int, cout: int, mode: str) -> nn.Module:
    """Double the resolution, (B, cin, H, W) -> (B, cout, 2H, 2W): the paper's k4 s2 transposed conv, or
    nearest-neighbour resizing then a 3x3 conv (Odena et al. 2016), which cannot leave a checkerboard grain."""
    if mode == "transposed":
        return nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=False)
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, padding=1, bias=False))


class ConvDecoder(nn.Module):
    """64x64 colour decoder.

    The paper does not say how the latent enters the first transposed conv: here a linear layer maps the
    (B, 2d) latent to an 8x8 map (256 x width channels), so that the three stride-2 transposed convs
    (256/128/64 x width) reach 64x64; two 3x3 stride-1 convs give the mean and log-variance images.
    Two labelled departures, off by default: ``upsampling="resize"`` (resize, then convolve) and
    ``decoder_res_blocks`` residual blocks after each of the last two upsamplings (at 32x32 and 64x64, where
    detail is drawn).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c0 = _channels(256, config.width)
        chans = [c0] + [_channels(c, config.width) for c in (256, 128, 64)]
        self.c0 = c0
        self.project = nn.Sequential(nn.Linear(latent_size(config), c0 * 8 * 8, bias=False), nn.BatchNorm1d(c0 * 64),
                                     nn.ReLU(inplace=True))
        layers: list[nn.Module] = []
        for index, (cin, cout) in enumerate(zip(chans[:-1], chans[1:], strict=True)):
            layers += [upsampling_layer(cin, cout, config.upsampling), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            if index >= 1:  # 32x32 and 64x64
                layers += [ResidualBlock(cout) for _ in range(config.decoder_res_blocks)]
        self.deconvs = nn.Sequential(*layers)
        self.likelihood = likelihood_of(config)
        if self.likelihood.maps > 2:
            raise ValueError(f"the conv decoder draws one or two maps per channel; {config.likelihood} needs "
                             f"{self.likelihood.maps}")
        # the likelihood's first and second parameter maps (the names are the checkpoints')
        self.mean_head = nn.Conv2d(chans[-1], config.image_channels, 3, padding=1)
        two_maps = self.likelihood.maps == 2
        self.logvar_head = nn.Conv2d(chans[-1], config.image_channels, 3, padding=1) if two_maps else None

    def forward(self, z: torch.Tensor) -> Decoded:
        """(B, d + d_s) -> the likelihood's parameters, each (B, 3, 64, 64)."""
        h = self.deconvs(self.project(z).view(-1, self.c0, 8, 8))
        heads = [self.mean_head] if self.logvar_head is None else [self.mean_head, self.logvar_head]
        return self.likelihood.decoded([head(h) for head in heads])


def output_layer_weight(decoder: nn.Module) -> torch.Tensor:
    """The weight of the decoder's layer that outputs the image mean (MLP: its last linear; conv: the mean head)."""
    if isinstance(decoder, ConvDecoder):
        return decoder.mean_head.weight
    if isinstance(decoder, MLPDecoder):
        return decoder.net[-1].weight
    raise TypeError(f"no known output layer in {type(decoder).__name__}")


def build_networks(config: ModelConfig) -> tuple[nn.Module, nn.Module]:
    """Encoder and decoder for ``config.architecture``."""
    if config.architecture == "mlp":
        return MLPEncoder(config), MLPDecoder(config)
    return ConvEncoder(config), ConvDecoder(config)
