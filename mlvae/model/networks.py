"""Encoder and decoder networks of supplement §2.1.

Encoders return four heads: style mean/log-variance (B, d_s) and content mean/log-variance (B, d), where
d_s = d unless ``style_dim`` says otherwise. Decoders map (B, d + d_s) latents (content first, then style) to
likelihood parameters.
Every log-variance is squashed by 5*tanh (supplement §2.1), which bounds it to (-5, 5); the encoder's style and
content log-variances may be given a wider bound (``style_logvar_bound``, ``content_logvar_bound``).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from mlvae.config import ModelConfig

PAPER_LOGVAR_BOUND = 5.0


def bounded_logvar(raw: torch.Tensor, bound: float = PAPER_LOGVAR_BOUND) -> torch.Tensor:
    """bound * tanh(5 raw / bound), in (-bound, bound): the supplement's 5 * tanh(raw) at bound 5.

    The slope at raw = 0 is 5 whatever the bound, so a wider bound changes what a trained head computes only
    where it was near the paper's bound."""
    if bound == PAPER_LOGVAR_BOUND:
        return PAPER_LOGVAR_BOUND * torch.tanh(raw)
    return bound * torch.tanh(raw * (PAPER_LOGVAR_BOUND / bound))


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
    """MNIST decoder: 2d -> 500 tanh -> likelihood parameters of 784 pixels."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.shape = config.image_shape
        pixels = config.image_channels * config.image_size**2
        outputs = 2 * pixels if config.likelihood == "normal" else pixels  # mean (+ log-variance) or logits
        self.net = nn.Sequential(
            nn.Linear(latent_size(config), config.hidden_dim), nn.Tanh(), nn.Linear(config.hidden_dim, outputs)
        )
        self.likelihood, self.fixed_logvar = config.likelihood, fixed_logvar(config)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, d + d_s) -> (mean in [0,1] or logits, logvar or None), each (B, C, H, W)."""
        out = self.net(z)
        if self.likelihood == "bernoulli":
            return out.view(-1, *self.shape), None
        if self.fixed_logvar is not None:
            mean = torch.sigmoid(out).view(-1, *self.shape)
            return mean, torch.full_like(mean, self.fixed_logvar)
        mean, raw = out.chunk(2, dim=-1)
        return torch.sigmoid(mean).view(-1, *self.shape), bounded_logvar(raw).view(-1, *self.shape)


class CReLU(nn.Module):
    """Concatenated ReLU: [relu(x), relu(-x)], doubling the features."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.relu(x), torch.relu(-x)], dim=-1)


def latent_size(config: ModelConfig) -> int:
    """Decoder input size: content d plus style d_s."""
    return config.latent_dim + config.style_size


def fixed_logvar(config: ModelConfig) -> float | None:
    """The constant log-variance of a fixed-variance Normal decoder (unit: 0; fixed: log sigma^2), else None."""
    if config.likelihood == "normal-unit":
        return 0.0
    if config.likelihood == "normal-fixed":
        return 2.0 * math.log(config.sigma)
    return None


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
        self.likelihood, self.fixed_logvar = config.likelihood, fixed_logvar(config)
        self.mean_head = nn.Conv2d(chans[-1], config.image_channels, 3, padding=1)
        learned_variance = config.likelihood == "normal"
        self.logvar_head = nn.Conv2d(chans[-1], config.image_channels, 3, padding=1) if learned_variance else None

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, d + d_s) -> (mean in [0,1] or logits, logvar or None), each (B, 3, 64, 64)."""
        h = self.deconvs(self.project(z).view(-1, self.c0, 8, 8))
        if self.likelihood == "bernoulli":
            return self.mean_head(h), None
        if self.logvar_head is None:  # a fixed variance
            mean = torch.sigmoid(self.mean_head(h))
            return mean, torch.full_like(mean, self.fixed_logvar)
        return torch.sigmoid(self.mean_head(h)), bounded_logvar(self.logvar_head(h))


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
