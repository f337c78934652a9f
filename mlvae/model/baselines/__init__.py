"""The baselines the paper compares the ML-VAE against (besides the plain VAE and the mixture posterior,
which are options of ``mlvae.model.MLVAE``): SVI (supplement §2.1, §7), SVI-Encode and the regularised VAE
(supplement §8). Each is a ``mlvae.model.interface.GroupedVAE``: the same ``encode`` / ``decode`` interface."""
from mlvae.model.baselines.regularised import RegularisedTerms, RegularisedVAE, pair_penalty, symmetrised_kl
from mlvae.model.baselines.svi import SVI, PosteriorTable
from mlvae.model.baselines.svi_encode import SVIEncode, generate_observations

__all__ = [
    "SVI", "PosteriorTable", "SVIEncode", "generate_observations", "RegularisedVAE", "RegularisedTerms",
    "pair_penalty", "symmetrised_kl",
]
