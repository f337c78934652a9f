"""The model math: posteriors and their pooling, likelihoods, networks, the ML-VAE and its baselines, the
objective, and a literal per-group reference of it. Imports nothing above it (no data loading, no training)."""
from mlvae.model.interface import Encoding, GroupedVAE
from mlvae.model.ml_vae import MLVAE

__all__ = ["Encoding", "GroupedVAE", "MLVAE"]
