"""The held-out test images a checkpoint is evaluated on.

mnist: the standard 10k test set. folder datasets: the test groups of the split the checkpoint was trained
with (``split.json`` beside the checkpoint or in its run folder), re-read from the data folder; or, with
``all_groups``, every group of a data folder (e.g. a different face collection, all unseen identities).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from mlvae.checkpoint.folder import SPLIT_NAME, find_split
from mlvae.config import DataConfig, data_dir_list
from mlvae.data.grouped import GroupedImages
from mlvae.data.loading import data_folder, data_folders, data_root, grouped_files, load_mnist, read_groups
from mlvae.errors import DataError

log = logging.getLogger(__name__)


def load_test_images(
    checkpoint_folder: Path, data: DataConfig, data_dir: str | Path | list | None = None, all_groups: bool = False
) -> GroupedImages:
    """Test images (uint8 (N, C, H, W)) with their group labels, prepared as the checkpoint was trained."""
    if data_dir is not None:
        data = data.with_data_dirs(data_dir)
    if data.dataset == "mnist":
        if all_groups:
            log.info("--all-groups has no effect on mnist: its standard test set is used")
        return load_mnist(data).test
    folders = data_folders(data)
    if not folders:
        raise DataError(
            "this checkpoint was trained on a folder dataset: give --data-dir, the folder of group subfolders")
    for folder in folders:
        if not folder.exists():
            where = "given by --data-dir" if data_dir is not None else "from the checkpoint's config"
            root = "" if data_root() else ", or set MLVAE_DATA_DIR to the folder that holds it"
            raise DataError(
                f"data folder {folder} ({where}) does not exist here: give --data-dir, the folder of group "
                f"subfolders to evaluate on (once per folder the model was trained on){root}"
            )
    groups = {n: files for found in grouped_files(folders).values() for n, files in found.items()}
    folder = folders[0] if len(folders) == 1 else ", ".join(map(str, folders))
    split = find_split(checkpoint_folder)
    if all_groups:
        trained_on = data_dir_list(split.get("data_dir")) if split is not None else []
        if {data_folder(d).resolve() for d in trained_on} == {f.resolve() for f in folders}:
            seen = set(split["groups"].get("train", [])) & set(groups)
            if seen:
                log.warning("--all-groups on the training folder: %d of its groups were seen in training", len(seen))
        return read_groups(groups, data)
    if split is None or "groups" not in split:
        raise DataError(
            f"no {SPLIT_NAME} with the group split beside {checkpoint_folder}: pass --all-groups to treat every "
            "group of --data-dir as unseen test groups"
        )
    names = list(split["groups"].get("test", []))
    if not names:
        raise DataError(f"the checkpoint's {SPLIT_NAME} has no test groups: "
                        "pass --all-groups with a --data-dir of unseen groups")
    missing = [n for n in names if n not in groups]
    if missing:
        raise DataError(
            f"{len(missing)} test group(s) of the checkpoint's split are not in {folder} (e.g. {missing[0]!r}): "
            "give the --data-dir the model was trained on, or --all-groups"
        )
    return read_groups({n: groups[n] for n in names}, data)


def load_training_photos(
    checkpoint_folder: Path, data: DataConfig, max_images: int, data_dir: str | Path | list | None = None,
    seed: int = 0,
) -> GroupedImages:
    """About ``max_images`` photos of randomly chosen **training** groups of the checkpoint's split (never a
    validation or test group), prepared as the checkpoint was trained: uint8 (N, C, H, W)."""
    if data_dir is not None:
        data = data.with_data_dirs(data_dir)
    split = find_split(checkpoint_folder)
    if split is None or not split.get("groups", {}).get("train"):
        raise DataError(f"no {SPLIT_NAME} with training groups beside {checkpoint_folder}: the linear reference is "
                        "fitted to the training people only, so it needs the checkpoint's split")
    groups = {n: files for found in grouped_files(data_folders(data)).values() for n, files in found.items()}
    names = [n for n in split["groups"]["train"] if n in groups]
    order = np.random.default_rng(seed).permutation(len(names))
    chosen, total = {}, 0
    for i in order:
        if total >= max_images:
            break
        chosen[names[i]] = groups[names[i]][: max(1, max_images - total)]
        total += len(chosen[names[i]])
    if not chosen:
        raise DataError(f"none of the split's training groups is in {', '.join(map(str, data_folders(data)))}")
    return read_groups(chosen, data)
