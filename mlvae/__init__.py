"""mlvae: the Multi-Level Variational Autoencoder (Bouchacourt, Tomioka & Nowozin), in PyTorch.

Layers, each importing only those before it: ``config`` -> ``data`` -> ``model`` -> ``latent`` ->
``checkpoint`` -> ``training`` -> ``evaluation`` (the demo, in ``demo/``, sits on top).
"""
from mlvae import latent
from mlvae.checkpoint.folder import load_model, save_model
from mlvae.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from mlvae.errors import CheckpointError, DataError, MLVAEError
from mlvae.model.interface import Encoding, GroupedVAE
from mlvae.model.ml_vae import MLVAE
from mlvae.model.objective import ObjectiveTerms, group_elbo
from mlvae.model.posterior import (
    DiagonalNormal,
    kl_to_standard_normal,
    mixture_kl_monte_carlo,
    pool,
    product_of_normals,
)

__version__ = "0.1.0"
__all__ = [
    "MLVAE", "GroupedVAE", "Encoding", "ModelConfig", "DataConfig", "TrainConfig", "RunConfig", "group_elbo",
    "ObjectiveTerms", "DiagonalNormal", "product_of_normals", "pool", "kl_to_standard_normal",
    "mixture_kl_monte_carlo", "load_model", "save_model", "latent", "MLVAEError", "DataError", "CheckpointError",
]
