"""The model kinds, in one registry: each declares its ``--model`` name, its display name, whether it pools a
group's content, its ``--model`` help, and the classes that build and train it.

The classes live in later layers (``mlvae.model``, ``mlvae.training``), so a kind names them and those layers
resolve the names (``mlvae.model.model_types.build_model``, ``mlvae.training.trainer_types.trainer_class``).
Adding a model kind is one entry here, its model class, and a trainer class if the default loop does not fit.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelKind:
    """One kind of model the package trains, evaluates and serves."""

    name: str  # the --model value, saved as ModelConfig.model_type
    display: str  # the short name reports and tables give it
    description: str  # what it is, in a few words (the demo's About)
    pools: bool  # whether the images of a group share one content latent (False: every image is its own group)
    help: str  # its part of the --model help
    model: str  # the class in mlvae.model that builds it
    trainer: str = "Trainer"  # the class in mlvae.training that trains it


KINDS: tuple[ModelKind, ...] = (
    ModelKind("mlvae", "ML-VAE", "Multi-Level VAE", True, "grouped model", "MLVAE"),
    ModelKind("vae", "VAE", "plain VAE baseline (no grouping)", False,
              "plain VAE baseline with the same networks", "MLVAE"),
    ModelKind("svi", "SVI", "stochastic variational inference baseline (supplement §7)", True,
              "free per-image style and per-group content parameters, test-time inference by optimisation "
              "(supplement §7)", "SVI", "SVITrainer"),
    ModelKind("svi-encode", "SVI-Encode", "encoder fitted to an SVI model (supplement eq. 17)", False,
              "an encoder fitted to a trained SVI model on generated samples (supplement eq. 17, needs "
              "--svi-checkpoint)", "SVIEncode", "SVIEncodeTrainer"),
    ModelKind("reg-vae", "Reg-VAE", "VAE with a symmetrised-KL group penalty (supplement eq. 18)", False,
              "VAE with per-image content and the symmetrised-KL group penalty of supplement eq. 18",
              "RegularisedVAE"),
)
MODEL_KINDS: dict[str, ModelKind] = {kind.name: kind for kind in KINDS}
MODEL_TYPES: tuple[str, ...] = tuple(MODEL_KINDS)  # the --model choices
MODEL_HELP = "; ".join(f"{kind.name}: {kind.help}" for kind in KINDS)
