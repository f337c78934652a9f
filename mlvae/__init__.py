"""mlvae: the Multi-Level Variational Autoencoder (Bouchacourt, Tomioka & Nowozin), in PyTorch."""
from .checkpoint import load_model, save_model
from .config import DataConfig, ModelConfig, RunConfig, TrainConfig
from .errors import CheckpointError, DataError, MLVAEError
from .model import MLVAE, Encoding
from .objective import ObjectiveTerms, group_elbo
from .posterior import (
    DiagonalNormal,
    kl_to_standard_normal,
    mixture_kl_monte_carlo,
    pool,
    product_of_normals,
)

__version__ = "0.1.0"
__all__ = [
    "MLVAE", "Encoding", "ModelConfig", "DataConfig", "TrainConfig", "RunConfig", "group_elbo", "ObjectiveTerms",
    "DiagonalNormal", "product_of_normals", "pool", "kl_to_standard_normal", "mixture_kl_monte_carlo",
    "load_model", "save_model", "MLVAEError", "DataError", "CheckpointError",
]
