"""The baselines the paper compares the ML-VAE against (besides the plain VAE and the mixture posterior,
which are options of ``mlvae.model.MLVAE``): SVI (supplement §2.1, §7), SVI-Encode and the regularised VAE
(supplement §8). Each is an ``MLVAE`` subclass with the same ``encode`` / ``decode`` interface."""
from .regularised import RegularisedTerms, RegularisedVAE, pair_penalty, symmetrised_kl
from .svi import SVI, PosteriorTable
from .svi_encode import SVIEncode, generate_observations

__all__ = [
    "SVI", "PosteriorTable", "SVIEncode", "generate_observations", "RegularisedVAE", "RegularisedTerms",
    "pair_penalty", "symmetrised_kl",
]
