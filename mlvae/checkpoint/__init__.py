"""Checkpoint I/O: a checkpoint folder (config, weights, split), its model card, and the Hugging Face Hub."""
from mlvae.checkpoint.folder import load_model, resolve_checkpoint, save_model

__all__ = ["load_model", "resolve_checkpoint", "save_model"]
