"""Start a larger network from a trained smaller one, computing exactly what the smaller one computed.

``widen_into``: a wider conv network (``--width``). ``grow_latents_into``: a network with a larger content
(``--latent-dim``) or style (``--style-dim``) latent, to give either room once the content has taken the identity
(the new dimensions start at the prior, and the decoder starts out not reading them).

Widening: every layer of the wide network holds the narrow layer's weights in its leading channels; the weights from the
new channels into the old ones are zero, so the old channels, and every output (the latents, the image), are
the narrow network's. The new channels keep their random init and start to matter as training moves the
zero weights (their gradient is not zero: the new channels' activations are not). Conv channels are the only
thing ``--width`` changes (flattened conv features keep channel-major order, so the old features lead there too).
"""
from __future__ import annotations

import torch
from torch import nn

from mlvae.model.interface import GroupedVAE
from mlvae.model.networks import EncoderHeads

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
            raise ValueError(
                f"layer {name} is a {type(small).__name__} in one model, a {type(module).__name__} in the other")
        tensors = {**dict(module.named_parameters(recurse=False)), **dict(module.named_buffers(recurse=False))}
        small_tensors = {**dict(small.named_parameters(recurse=False)), **dict(small.named_buffers(recurse=False))}
        for key, tensor in tensors.items():
            old = small_tensors[key]
            if tensor.dim() != old.dim() or any(w < n for w, n in zip(tensor.shape, old.shape, strict=True)):
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


def _decoder_input(model: GroupedVAE) -> nn.Linear:
    """The decoder's first layer: the one that reads the (B, d + d_s) latent."""
    width = model.config.latent_dim + model.config.style_size
    layers = [m for m in model.decoder.modules() if isinstance(m, nn.Linear) and m.in_features == width]
    if len(layers) != 1:
        raise ValueError("cannot tell which decoder layer reads the latent")
    return layers[0]


@torch.no_grad()
def grow_latents_into(big: GroupedVAE, small: GroupedVAE) -> None:
    """Copy ``small``'s weights into ``big``, whose content and/or style have more dimensions (appended after the old
    ones of each) and which is otherwise the same network: the decoder's weights from the new dimensions are zero, so
    every output is ``small``'s, and the new dimensions' log-variance heads start at 0 (the prior's); ValueError
    otherwise."""
    od, nd = small.config.latent_dim, big.config.latent_dim
    os_, ns = small.config.style_size, big.config.style_size
    if nd < od or ns < os_:
        raise ValueError("the latents may only grow: the content and the style must each be at least as large")
    heads, small_heads = (next(m for m in model.encoder.modules() if isinstance(m, EncoderHeads))
                          for model in (big, small))
    reader, small_reader = _decoder_input(big), _decoder_input(small)
    names = {module: name for name, module in big.named_modules()}
    grown = {f"{names[layer]}.{p}" for layer in (heads.linear, reader) for p in ("weight", "bias")}
    small_state = small.state_dict()
    for key, tensor in big.state_dict().items():
        if key in grown:
            continue
        if tensor.shape != small_state[key].shape:
            raise ValueError(f"{key} is {tuple(small_state[key].shape)} in one model and {tuple(tensor.shape)} in the "
                             "other: only --latent-dim and --style-dim may differ")
        tensor.copy_(small_state[key])
    # heads' rows: style mean (d_s), style log-variance (d_s), content mean (d), content log-variance (d); the new
    # mean rows keep their random init
    blocks = [(0, 0, os_), (os_, ns, os_), (2 * os_, 2 * ns, od), (2 * os_ + od, 2 * ns + nd, od)]
    new_logvar_rows = [slice(ns + os_, 2 * ns), slice(2 * ns + nd + od, 2 * ns + 2 * nd)]
    for name in ("weight", "bias"):
        target, source = getattr(heads.linear, name), getattr(small_heads.linear, name)
        for src, dst, size in blocks:
            target[dst : dst + size] = source[src : src + size]
        for rows in new_logvar_rows:
            target[rows] = 0
    # latent columns: content, then the style
    reader.weight.zero_()
    reader.weight[:, :od] = small_reader.weight[:, :od]
    reader.weight[:, nd : nd + os_] = small_reader.weight[:, od:]
    if reader.bias is not None:
        reader.bias.copy_(small_reader.bias)
