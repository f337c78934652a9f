"""Checkpoint folders in the Hugging Face layout: ``config.json`` + ``model.safetensors``.

Nothing is ever unpickled. Every file is written to a temporary name, flushed, then renamed over the old
one, so an interrupted save leaves the previous good file in place.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from mlvae.checkpoint.card import CARD_NAME, MAX_CARD_BYTES
from mlvae.checkpoint.hub_download import download_checkpoint
from mlvae.checkpoint.validation import (
    MAX_CONFIG_BYTES,
    MAX_HEADER_BYTES,
    MAX_PARAMETERS,
    check_weights,
    read_config_file,
)
from mlvae.config import RunConfig
from mlvae.errors import CheckpointError
from mlvae.model.interface import GroupedVAE
from mlvae.model.model_types import build_model

log = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
SPLIT_NAME = "split.json"
HUB_FILES = (CONFIG_NAME, WEIGHTS_NAME, SPLIT_NAME, CARD_NAME)  # what a Hub checkpoint download fetches
STATE_NAME = "training_state.safetensors"
TRAINER_NAME = "trainer_state.json"
_UMASK = os.umask(0o022)  # read once at import (os.umask can only be read by setting it) ...
os.umask(_UMASK)  # ... and put back at once


def shipped_dir(package: Path) -> Path:
    """The bundled checkpoints of the ``mlvae`` package folder ``package``: ``mlvae/shipped`` when installed
    (setup.py maps the repository's ``checkpoints/`` there), else ``checkpoints/`` beside it in a checkout."""
    installed = package / "shipped"
    return installed if installed.is_dir() else package.parent / "checkpoints"


SHIPPED_DIR = shipped_dir(Path(__file__).resolve().parents[1])


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` then atomically rename ``tmp`` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; the final file gets ordinary permissions
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, data: Any) -> None:
    """Atomically write ``data`` as indented JSON."""
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n"))


def save_model(folder: str | Path, model: GroupedVAE, config: RunConfig, half: bool = False) -> Path:
    """Write ``model.safetensors`` (float16 if ``half``) and ``config.json`` into ``folder``."""
    folder = Path(folder)
    dtype = torch.float16 if half else torch.float32
    tensors = {
        k: (v.detach().to("cpu", dtype) if v.is_floating_point() else v.detach().cpu()).contiguous()
        for k, v in model.state_dict().items()
    }
    atomic_write(folder / WEIGHTS_NAME, lambda tmp: save_file(tensors, str(tmp), metadata={"format": "pt"}))
    write_json(folder / CONFIG_NAME, config.to_dict())
    return folder


def hub_limits() -> dict[str, int]:
    """The most bytes each file of HUB_FILES may have on the Hub: the limits it is read with here."""
    weights = MAX_HEADER_BYTES + 8 + 8 * MAX_PARAMETERS  # the header, its length, the largest model in float64
    return {CONFIG_NAME: MAX_CONFIG_BYTES, WEIGHTS_NAME: weights, SPLIT_NAME: MAX_SPLIT_BYTES,
            CARD_NAME: MAX_CARD_BYTES}


def resolve_checkpoint(name_or_path: str | Path) -> Path:
    """A shipped short name (``mnist``, ``faces``), a local folder, or a Hub repo id -> a local folder."""
    text = str(name_or_path)
    shipped = SHIPPED_DIR / text
    if "/" not in text and (shipped / CONFIG_NAME).exists():
        return shipped
    local = Path(text).expanduser()
    if local.exists():
        if not local.is_dir():
            raise CheckpointError(f"{local} is a file: give the checkpoint folder that holds {CONFIG_NAME}")
        if not (local / WEIGHTS_NAME).exists() and (local / "best" / CONFIG_NAME).exists():
            return local / "best"  # a training run folder: its validation-selected checkpoint
        return local
    if text.count("/") == 1 and not text.startswith((".", "/")):
        return download_checkpoint(text, hub_limits())  # each file's size checked before the download
    shipped = SHIPPED_DIR.iterdir() if SHIPPED_DIR.exists() else []
    shipped_names = sorted(p.name for p in shipped if (p / CONFIG_NAME).exists())
    raise CheckpointError(
        f"no checkpoint {text!r}: give a shipped name ({', '.join(shipped_names) or 'none shipped'}), "
        "a local folder with config.json and model.safetensors, or a Hub repo id like user/name"
    )


MAX_SPLIT_BYTES = 16 << 20  # a split.json lists group names or MNIST indices: a few hundred kB


def find_split(checkpoint_folder: Path) -> dict | None:
    """The ``split.json`` record of a checkpoint folder or of the run folder above it, if any; CheckpointError
    naming it when it is not a split record."""
    for folder in (checkpoint_folder, checkpoint_folder.parent):
        path = folder / SPLIT_NAME
        if path.exists():
            fix = "restore it from the training run"
            if path.stat().st_size > MAX_SPLIT_BYTES:
                raise CheckpointError(f"{path} is {path.stat().st_size >> 20} MB, not a split record; {fix}")
            try:
                record = json.loads(path.read_text())
            except RecursionError:
                raise CheckpointError(f"{path} nests too deeply to be a split record; {fix}") from None
            except ValueError as exc:
                raise CheckpointError(f"{path} is not valid JSON ({exc}); {fix}") from exc
            problem = split_problem(record)
            if problem:
                raise CheckpointError(f"{path} is not a split record ({problem}); {fix}")
            return record
    return None


def split_problem(record: object) -> str | None:
    """What is wrong with the shape of a split record, or None: an object whose ``groups`` map each part to a
    list of names, ``val_indices`` a list of whole numbers and ``data_dir`` a folder or a list of folders."""
    if not isinstance(record, dict):
        return f"a JSON object was expected, not {type(record).__name__}"
    groups = record.get("groups", {})
    if not isinstance(groups, dict) or not all(
            isinstance(names, list) and all(isinstance(n, str) for n in names) for names in groups.values()):
        return "groups must map each part (train, val, test) to a list of group names"
    indices = record.get("val_indices", [])
    if not isinstance(indices, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in indices):
        return "val_indices must be a list of whole numbers"
    data_dir = record.get("data_dir")
    if data_dir is not None and not (isinstance(data_dir, str) or (
            isinstance(data_dir, list) and all(isinstance(d, str) for d in data_dir))):
        return "data_dir must be a folder or a list of folders"
    return None


def read_config(folder: Path) -> RunConfig:
    """Parse and validate ``config.json`` of a checkpoint folder (``mlvae.checkpoint.validation``)."""
    return read_config_file(folder / CONFIG_NAME)


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Load a safetensors file, or CheckpointError naming it."""
    if not path.exists():
        raise CheckpointError(f"{path} is missing: the checkpoint has no weights; re-run training or re-download")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"{path} is corrupt or not a safetensors file ({exc}); re-download or re-train it") from exc


def load_model(name_or_path: str | Path, device: str | torch.device = "cpu") -> tuple[GroupedVAE, RunConfig]:
    """Load a checkpoint (shipped name, local folder or Hub repo id) in eval mode, float32, on ``device``."""
    folder = resolve_checkpoint(name_or_path)
    config = read_config(folder)
    check_weights(config, folder / WEIGHTS_NAME)  # from the header, before anything is allocated
    model = build_model(config.model)  # the class of config.model.model_type
    tensors = read_tensors(folder / WEIGHTS_NAME)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = [k for k in expected if k in tensors and tensors[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        detail = "; ".join(
            part for part in (
                f"missing {', '.join(missing[:3])}" if missing else "",
                f"unexpected {', '.join(unexpected[:3])}" if unexpected else "",
                f"shape mismatch in {', '.join(wrong[:3])}" if wrong else "",
            ) if part
        )
        raise CheckpointError(
            f"{folder / CONFIG_NAME} does not match {folder / WEIGHTS_NAME} ({detail}); "
            "use the config.json saved with these weights"
        )
    not_finite = [k for k, v in tensors.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if not_finite:
        log.warning("%s holds NaN or infinite weights (%s): its outputs will be meaningless; re-train or "
                    "re-download it", folder / WEIGHTS_NAME, ", ".join(not_finite[:3]))
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()})
    return model.to(device).eval(), config
