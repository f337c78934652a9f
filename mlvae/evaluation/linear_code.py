"""A linear code of a given size (PCA of prepared training photos): the reference a model's code is held against.

A code of d numbers cannot hold more of a face than the best linear code of d numbers holds of it, on average, in
squared error; if a model of code size d is recognised about as often as PCA with d components, its code's size,
not its decoder, is what limits it. The basis is fitted to training people's photos only.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class LinearCode:
    """Mean (D,) and orthonormal basis (D, d) of a d-component PCA of flattened images of D pixels."""

    mean: torch.Tensor
    basis: torch.Tensor

    @property
    def size(self) -> int:
        """d, the number of components."""
        return self.basis.shape[1]

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """Project float images (N, C, H, W) in [0, 1] on the basis and back, clamped to [0, 1]: (N, C, H, W)."""
        flat = images.reshape(images.shape[0], -1).float() - self.mean
        return ((flat @ self.basis) @ self.basis.T + self.mean).clamp(0, 1).reshape(images.shape)


def fit_linear_code(images: torch.Tensor, size: int, seed: int = 0) -> LinearCode:
    """PCA with ``size`` components of images (N, C, H, W), uint8 or float in [0, 1] (randomised SVD, exact to
    float precision for the leading components); ``size`` is capped at N - 1."""
    x = images.reshape(images.shape[0], -1)
    x = x.float() / 255.0 if images.dtype == torch.uint8 else x.float()
    mean = x.mean(dim=0)
    centred = x - mean
    size = min(size, x.shape[0] - 1, x.shape[1])
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        _, _, v = torch.svd_lowrank(centred, q=min(size + 16, min(centred.shape)), niter=6)
    finally:
        torch.random.set_rng_state(generator_state)
    return LinearCode(mean, v[:, :size].contiguous())
