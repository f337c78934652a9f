"""Checking a checkpoint before anything is built from it: ``config.json``'s shape, types and ranges, the
safetensors header's tensor names and shapes against the model the config describes (built on the ``meta``
device, which allocates nothing), the total size, and (for the demo, which prepares its inputs by the data config)
that the data config prepares the images the model takes.

A bad checkpoint costs a message naming the problem: no network is allocated from an absurd config, no header
of a million entries is parsed, no model that cannot take its own data config's images is served.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

import torch

from mlvae.config import RunConfig
from mlvae.errors import CheckpointError
from mlvae.model.model_types import build_model

MAX_CONFIG_BYTES = 1 << 20  # a config.json is about 2 kB
MAX_HEADER_BYTES = 1 << 20  # a safetensors header lists each tensor in ~100 bytes; our models have < 100
MAX_PARAMETERS = 200_000_000  # 800 MB of float32: ten times the largest model here


def read_config_file(path: Path) -> RunConfig:
    """``config.json`` parsed and validated (types, ranges, unknown keys), or CheckpointError naming it."""
    if not path.exists():
        raise CheckpointError(f"{path.name} is missing: a checkpoint folder needs config.json and model.safetensors")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise CheckpointError(f"{path.name} is {path.stat().st_size >> 10} kB, not a checkpoint config; re-save it")
    try:
        return RunConfig.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except RecursionError:
        raise CheckpointError(f"{path.name} nests too deeply to be a checkpoint config; re-save it") from None
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{path.name} is not a valid mlvae config ({exc}); re-save the checkpoint") from exc


def read_header(path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """The tensors a safetensors file declares, by name: (dtype, shape), read from its header alone."""
    if not path.exists():
        raise CheckpointError(f"{path.name} is missing: the checkpoint has no weights; re-run training or re-download")
    corrupt = f"{path.name} is corrupt or not a safetensors file"
    with open(path, "rb") as f:
        size = f.read(8)
        if len(size) < 8:
            raise CheckpointError(f"{corrupt} (too short); re-download or re-train it")
        length = struct.unpack("<Q", size)[0]
        if length > MAX_HEADER_BYTES:
            raise CheckpointError(f"{corrupt} (its header declares {length} bytes, more than any model here); "
                                  "re-download or re-train it")
        try:
            header = json.loads(f.read(length))
        except (ValueError, RecursionError):
            raise CheckpointError(f"{corrupt} (unreadable header); re-download or re-train it") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{corrupt} (its header is not a table of tensors); re-download or re-train it")
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not (isinstance(shape, list) and all(isinstance(n, int) and n >= 0 for n in shape)):
            raise CheckpointError(f"{corrupt} (tensor {name[:60]!r} has no valid shape); re-download or re-train it")
        tensors[name] = (str(entry.get("dtype")), tuple(shape))
    return tensors


def expected_shapes(config: RunConfig) -> dict[str, tuple[int, ...]]:
    """The state-dict shapes of the model ``config`` describes, built on the meta device (no memory)."""
    with torch.device("meta"):
        model = build_model(config.model)
    return {name: tuple(value.shape) for name, value in model.state_dict().items()}


def check_data_matches_model(config: RunConfig, name: str) -> None:
    """CheckpointError when the data config prepares images the model does not take."""
    data, model = config.data.image_shape, config.model.image_shape
    if data != model:
        raise CheckpointError(
            f"{name}: its data config prepares {data[1]} x {data[2]} x {data[0]} images "
            f"but its model takes {model[1]} x {model[2]} x {model[0]}; use the config.json saved with these weights"
        )


def check_weights(config: RunConfig, weights: Path) -> None:
    """CheckpointError naming what differs between the weights file's header and the config's model."""
    declared, expected = read_header(weights), expected_shapes(config)
    parameters = sum(int(torch.tensor(shape).prod()) for shape in expected.values())
    if parameters > MAX_PARAMETERS:
        raise CheckpointError(f"{weights.parent.name}: its config describes {parameters / 1e6:.0f} M parameters, "
                              f"more than the {MAX_PARAMETERS / 1e6:.0f} M allowed; check config.json")
    missing = sorted(set(expected) - set(declared))
    unexpected = sorted(set(declared) - set(expected))
    wrong = [k for k in expected if k in declared and declared[k][1] != expected[k]]
    if missing or unexpected or wrong:
        detail = "; ".join(part for part in (
            f"missing {', '.join(missing[:3])}" if missing else "",
            f"{len(unexpected)} unexpected, e.g. {', '.join(n[:40] for n in unexpected[:3])}" if unexpected else "",
            f"shape mismatch in {', '.join(wrong[:3])}" if wrong else "",
        ) if part)
        raise CheckpointError(f"{weights.parent.name}: config.json does not match model.safetensors ({detail}); "
                              "use the config.json saved with these weights")
