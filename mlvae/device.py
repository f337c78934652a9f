"""Picking the compute device."""
from __future__ import annotations

import torch


def pick_device(requested: str = "auto") -> torch.device:
    """``auto`` -> CUDA if present, else Apple MPS, else CPU; otherwise the named device."""
    if requested != "auto":
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
