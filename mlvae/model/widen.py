"""Start a wider conv network from a trained narrower one, computing exactly what the narrow one computed.

Every layer of the wide network holds the narrow layer's weights in its leading channels; the weights from the
new channels into the old ones are zero, so the old channels, and every output (the latents, the image), are
the narrow network's. The new channels keep their random init and start to matter as training moves the
zero weights (their gradient is not zero: the new channels' activations are not). Conv channels are the only
thing ``--width`` changes (flattened conv features keep channel-major order, so the old features lead there too).
"""
from __future__ import annotations

import torch
from torch import nn

from mlvae.model.interface import GroupedVAE

_IN_DIM = {nn.Linear: 1, nn.Conv2d: 1, nn.ConvTranspose2d: 0}  # the weight dimension a layer reads its input on


def _leading(narrow: torch.Tensor) -> tuple[slice, ...]:
    return tuple(slice(0, n) for n in narrow.shape)


@torch.no_grad()
def widen_into(wide: GroupedVAE, narrow: GroupedVAE) -> None:
    """Copy ``narrow``'s weights into the leading channels of ``wide`` (same architecture, width at least as
    large), zeroing the weights from new channels into old ones; ValueError when the two do not correspond."""
    wide_modules, narrow_modules = dict(wide.named_modules()), dict(narrow.named_modules())
    if wide_modules.keys() != narrow_modules.keys():
        raise ValueError("the two models do not have the same layers: only --width may differ")
    for name, module in wide_modules.items():
        small = narrow_modules[name]
        if type(module) is not type(small):
            raise ValueError(f"layer {name} is a {type(small).__name__} in one model, a {type(module).__name__} in the other")
        tensors = {**dict(module.named_parameters(recurse=False)), **dict(module.named_buffers(recurse=False))}
        small_tensors = {**dict(small.named_parameters(recurse=False)), **dict(small.named_buffers(recurse=False))}
        for key, tensor in tensors.items():
            old = small_tensors[key]
            if tensor.dim() != old.dim() or any(w < n for w, n in zip(tensor.shape, old.shape)):
                raise ValueError(f"{name}.{key} is {tuple(old.shape)} in the narrow model and {tuple(tensor.shape)} in "
                                 "the wide one: the wide model must be at least as wide everywhere")
            if key == "weight" and type(module) in _IN_DIM:
                in_dim = _IN_DIM[type(module)]
                out_dim = 1 - in_dim
                new_inputs = [slice(None)] * tensor.dim()
                new_inputs[out_dim] = slice(0, old.shape[out_dim])
                new_inputs[in_dim] = slice(old.shape[in_dim], None)
                tensor[tuple(new_inputs)] = 0  # old outputs never read the new channels
            elif tensor.dim() == 0:  # BatchNorm's num_batches_tracked
                tensor.copy_(old)
                continue
            tensor[_leading(old)] = old
