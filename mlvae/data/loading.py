"""Datasets ``mnist`` (grouped by digit) and ``folder`` (one subfolder per group), split and in memory."""
from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from mlvae.config import DataConfig, stored_data_dir
from mlvae.data.faces import AlignmentCache
from mlvae.data.grouped import GroupedImages, Splits
from mlvae.data.images import image_to_tensor, open_image, prepare_image, to_model_mode
from mlvae.errors import DataError, MLVAEError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}


def data_root() -> Path | None:
    """``$MLVAE_DATA_DIR`` if set."""
    value = os.environ.get("MLVAE_DATA_DIR")
    return Path(value) if value else None


def data_folder(name: str | Path) -> Path:
    """A data folder as a config or split records it: an absolute path as it is; a relative one from here if it is
    found here, else under ``$MLVAE_DATA_DIR`` (shipped checkpoints record names relative to the data root)."""
    path = Path(name).expanduser()
    root = data_root()
    if path.is_absolute() or path.exists() or root is None:
        return path
    return root / path


def portable_name(folder: str | Path) -> str:
    """How a shipped file records a data folder: its path relative to ``$MLVAE_DATA_DIR`` if it is under it, else
    its name; never an absolute path (``data_folder`` reads it back)."""
    path, root = data_folder(folder).resolve(), data_root()
    if root is not None and path.is_relative_to(root.resolve()) and path != root.resolve():
        return path.relative_to(root.resolve()).as_posix()
    return path.name


def load_splits(config: DataConfig) -> Splits:
    """Load and split the dataset that ``config`` names."""
    if config.dataset == "mnist":
        return load_mnist(config)
    if config.dataset == "folder":
        if not config.data_dir:
            raise DataError("the folder dataset needs --data-dir: a folder with one subfolder of images per group")
        return load_folder(config)
    raise DataError(f"unknown dataset {config.dataset!r}: use 'mnist' or 'folder'")


def load_mnist(config: DataConfig) -> Splits:
    """MNIST grouped by digit: the paper's seeded 50k/10k train/validation split and the standard test set.

    Reads ``<data_dir or $MLVAE_DATA_DIR/mnist>``; downloads through torchvision when neither holds it.
    """
    from torchvision.datasets import MNIST
    from torchvision.datasets.mnist import read_image_file, read_label_file

    root = data_folder(config.data_dirs[0]) if config.data_dirs else (data_root() / "mnist" if data_root() else None)
    raw = root / "MNIST" / "raw" if root is not None else None
    files = {part: [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
             for part, prefix in (("train", "train"), ("test", "t10k"))}
    download = raw is None or not all((raw / name).exists() for names in files.values() for name in names)
    if root is None:
        root = Path.home() / ".cache" / "mlvae" / "mnist"
        raw = root / "MNIST" / "raw"
    try:
        if download:
            MNIST(str(root), train=True, download=True)
            MNIST(str(root), train=False, download=True)
        # the raw idx files, never torchvision's pickled processed/*.pt copies
        (train_x, train_y), (test_x, test_y) = [
            (read_image_file(str(raw / images)), read_label_file(str(raw / labels)))
            for images, labels in files.values()
        ]
    except Exception as exc:  # torchvision raises RuntimeError / URLError for missing or unreachable data
        raise DataError(
            f"MNIST could not be read from {root} ({exc}). Set MLVAE_DATA_DIR to a folder holding mnist/MNIST/raw/, "
            "or go online so torchvision can download it."
        ) from exc
    names = [str(d) for d in range(10)]
    images = train_x.unsqueeze(1).contiguous()
    labels = train_y.long()
    perm = torch.from_numpy(np.random.default_rng(config.split_seed).permutation(len(labels)))
    val_idx, train_idx = perm[: config.val_size], perm[config.val_size :]
    record = {"dataset": "mnist", "split_seed": config.split_seed, "val_indices": sorted(val_idx.tolist())}
    return Splits(
        train=GroupedImages(images[train_idx], labels[train_idx], names),
        val=GroupedImages(images[val_idx], labels[val_idx], names),
        test=GroupedImages(test_x.unsqueeze(1).contiguous(), test_y.long(), names),
        record=record,
    )


def list_groups(folder: Path) -> dict[str, list[Path]]:
    """Image files of each subfolder of ``folder`` (sorted), or DataError saying what is wrong."""
    if not folder.exists():
        raise DataError(f"data folder {folder} does not exist: give --data-dir a folder with one subfolder per group")
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder: give --data-dir a folder with one subfolder per group")
    groups: dict[str, list[Path]] = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(f for f in sub.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        if files:
            groups[sub.name] = files
    if not groups:
        raise DataError(
            f"data folder {folder} holds no group subfolders with images: put each group's images "
            f"(e.g. one person's photos) in its own subfolder, e.g. {folder}/alice/1.jpg"
        )
    return groups


def split_groups(names: list[str], val_fraction: float, test_fraction: float, seed: int) -> dict[str, list[str]]:
    """Disjoint train/val/test lists of group names, by fraction and seed."""
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise DataError("val and test fractions must be in [0, 1) and add up to less than 1")
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    n_val = int(round(len(names) * val_fraction))
    n_test = int(round(len(names) * test_fraction))
    if len(names) - n_val - n_test < 1:
        raise DataError(f"only {len(names)} groups: too few to split into train/val/test; add groups")
    return {
        "test": sorted(order[:n_test]),
        "val": sorted(order[n_test : n_test + n_val]),
        "train": sorted(order[n_test + n_val :]),
    }


def _decode(path: Path, config: DataConfig, cache: AlignmentCache | None) -> torch.Tensor | None:
    try:
        if cache is not None:
            face = cache.get(path, lambda p: to_model_mode(open_image(p), 3))
            return image_to_tensor(to_model_mode(face, config.image_channels))
        return prepare_image(open_image(path), config.image_size, config.image_channels, config.crop_fraction)
    except MLVAEError as exc:
        log.warning("skipping %s", exc)
        return None


def read_groups(groups: dict[str, list[Path]], config: DataConfig, threads: int = 4) -> GroupedImages:
    """Decode every image of ``groups``; unreadable files are skipped and counted in the log."""
    names = list(groups)
    paths = [(gi, p) for gi, name in enumerate(names) for p in groups[name]]
    cache = AlignmentCache(config.image_size) if config.align_faces else None
    with ThreadPoolExecutor(max_workers=threads) as pool:
        tensors = list(tqdm(pool.map(lambda item: _decode(item[1], config, cache), paths), total=len(paths),
                            desc="aligning faces" if cache else "reading images", unit="img",
                            mininterval=2.0, disable=len(paths) < 2000, leave=False))
    kept = [(gi, t) for (gi, _), t in zip(paths, tensors, strict=True) if t is not None]
    skipped = len(paths) - len(kept)
    if skipped:
        log.warning("skipped %d unreadable%s image file(s) of %d", skipped, " or faceless" if cache else "", len(paths))
    if not kept:
        raise DataError("no readable images found: every file failed to decode; check the data folder")
    images = torch.stack([t for _, t in kept])
    labels = torch.tensor([gi for gi, _ in kept], dtype=torch.long)
    return GroupedImages(images, labels, names)


def data_folders(config: DataConfig) -> list[Path]:
    """The folder(s) a folder dataset reads (``data_folder`` of each of ``data_dir``)."""
    return [data_folder(d) for d in config.data_dirs]


def grouped_files(folders: list[Path]) -> dict[str, dict[str, list[Path]]]:
    """Each folder's groups (``list_groups``), keyed by folder name; with several folders a group is named
    ``<folder name>/<subfolder>``, so that groups of different sources never merge."""
    if len({f.name for f in folders}) < len(folders):
        raise DataError("two data folders share a name; their groups would be confused: rename one of them")
    sources = {}
    for folder in folders:
        found = list_groups(folder)
        several = len(folders) > 1
        sources[folder.name] = {f"{folder.name}/{n}": files for n, files in found.items()} if several else found
    return sources


def load_folder(config: DataConfig) -> Splits:
    """Folder(s) of group subfolders, split disjointly by group into train/val/test.

    With several folders each is split by the same fractions, so that every source has test groups."""
    folders = data_folders(config)
    groups: dict[str, list[Path]] = {}
    split: dict[str, list[str]] = {"test": [], "val": [], "train": []}
    for folder, found in zip(folders, grouped_files(folders).values(), strict=True):
        singles = [name for name, files in found.items() if len(files) == 1]
        if singles:
            log.warning(
                "%d group folder(s) hold a single image (e.g. %s): they train as groups of one, with no shared "
                "content evidence; add more images of each group or remove those folders",
                len(singles), ", ".join(str(folder / n.split("/")[-1]) for n in singles[:3]),
            )
        for part, names in split_groups(list(found), config.val_fraction, config.test_fraction,
                                        config.split_seed).items():
            split[part] = sorted(split[part] + names)
        groups.update(found)
    parts = {part: read_groups({n: groups[n] for n in names}, config) for part, names in split.items() if names}
    empty = GroupedImages(
        torch.zeros((0, config.image_channels, config.image_size, config.image_size), dtype=torch.uint8),
        torch.zeros(0, dtype=torch.long), [],
    )
    record = {"dataset": "folder", "data_dir": stored_data_dir(folders),
              "split_seed": config.split_seed, "groups": split}
    return Splits(parts.get("train", empty), parts.get("val", empty), parts.get("test", empty), record)
