"""``python -m mlvae.train`` / ``mlvae-train``: train an ML-VAE (or a baseline) on grouped images.

Examples:
  python -m mlvae.train --dataset mnist --epochs 20 --out runs/mnist
  python -m mlvae.train --dataset folder --data-dir faces/ --arch conv --width 0.5 --out runs/faces
  python -m mlvae.train --out runs/mnist --resume        # continue an interrupted run
  torchrun --nproc_per_node 4 -m mlvae.train --dataset folder --data-dir faces/ --out runs/faces   # 4 GPUs (DDP)
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mlvae.checkpoint.hub import push_run
from mlvae.config import (
    PRESETS,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    data_dir_list,
    stored_data_dir,
)
from mlvae.data import load_splits
from mlvae.data.loading import data_folder
from mlvae.device import pick_device
from mlvae.errors import MLVAEError, exit_code_of
from mlvae.flags import add_flags, flag, flag_name, flagged_fields, given_flags, values_for
from mlvae.training import distributed
from mlvae.training.state import check_output_folder, checkpoint_bytes
from mlvae.training.trainer_types import trainer_class

log = logging.getLogger("mlvae.train")


@dataclass
class TrainCommand:
    """What one invocation does with the run (not saved in the run's config)."""

    out: str | None = field(default=None, metadata=flag("run folder", group="output",
                                                        default_text="runs/<dataset>-<model>"))
    resume: bool = field(default=False, metadata=flag(
        "continue the run in --out from its last checkpoint", group="output"))
    push_to_hub: str | None = field(default=None, metadata=flag(
        "after training, upload the best checkpoint and its model card to this Hub repo", group="output",
        metavar="REPO_ID"))


SECTIONS = (DataConfig, ModelConfig, TrainConfig, TrainCommand)  # the --help sections, in this order


def build_parser() -> argparse.ArgumentParser:
    """The CLI, generated from the config dataclasses' fields; every option has a default that works."""
    p = argparse.ArgumentParser(
        prog="python -m mlvae.train",
        description="Train a Multi-Level VAE (Bouchacourt et al.) on grouped images. Each minibatch holds "
        "--groups-per-batch groups; every group shares one content latent, pooled as a product of Normals.",
        epilog="examples:" + __doc__.split("Examples:")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    groups: dict = {}
    for section in SECTIONS:
        add_flags(p, section, groups, PRESETS)
    return p


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """A RunConfig from parsed flags, with the dataset's preset for every flag not given."""
    preset = PRESETS[args.dataset]
    model, data, train = values_for(ModelConfig, args), values_for(DataConfig, args), values_for(TrainConfig, args)
    for values in (model, data):
        for name, value in values.items():
            if value is None and hasattr(preset, name):
                values[name] = getattr(preset, name)
    if args.dataset == "mnist" and model["architecture"] == "conv":
        raise ValueError("--arch conv takes 64x64 colour images and mnist is 28x28 greyscale: use --arch mlp")
    if args.dataset == "mnist" and data.get("align_faces"):
        raise ValueError("--align-faces finds faces in the photos of a folder dataset and MNIST holds none: drop it, "
                         "or give --dataset folder")
    if train.get("init_from") is not None and not str(train["init_from"]).strip():
        raise ValueError("--init-from needs a checkpoint (a run's best/ or last/, or a shipped name): give one, or "
                         "drop the flag for a random init")
    model_config = ModelConfig(**model)
    channels, size, _ = model_config.image_shape  # the data is prepared at the shape the architecture takes
    data["data_dir"] = stored_data_dir(data["data_dir"])
    return RunConfig(model=model_config, data=DataConfig(**data, image_channels=channels, image_size=size),
                     train=TrainConfig(**train))


# fields whose flags may change when a run is resumed; every other flag must agree with the run's config.json
RESUME_FIELDS = ("epochs", "max_steps", "lr", "num_threads", "device", "compile")
COMMAND_FIELDS = {f.name for f in dataclasses.fields(TrainCommand)}


def flag_names() -> dict[str, str]:
    """Field name -> its ``--flag``."""
    return {f.name: flag_name(f) for section in SECTIONS for f in flagged_fields(section)}


def config_field(config: RunConfig, name: str):
    """The value of field ``name`` in ``config``; folders compare however they are spelt."""
    for section in (config.model, config.data, config.train):
        if hasattr(section, name):
            value = getattr(section, name)
            if name == "data_dir" and value:
                return sorted(str(data_folder(d).resolve()) for d in data_dir_list(value))
            return value
    raise KeyError(name)


def apply_resume_flags(config: RunConfig, args: argparse.Namespace, given: set[str]) -> None:
    """Apply the flags that may change on resume (--epochs, --max-steps, --lr, --threads, --device, --compile); any
    other flag may be repeated (e.g. the whole command again, with --resume) but not changed."""
    names = flag_names()
    fixed = given - set(RESUME_FIELDS) - COMMAND_FIELDS
    if fixed:
        try:
            wanted = config_from_args(args)
        except ValueError as exc:
            raise MLVAEError(f"{exc}: change the flags (see --help)") from exc
        changed = sorted(d for d in fixed if config_field(wanted, d) != config_field(config, d))
        if changed:
            listed = ", ".join(f"{names[d]} (the run has {config_field(config, d)!r})" for d in changed)
            raise MLVAEError(
                f"--resume continues the run as its config.json sets it up, and {listed} cannot change on resume: "
                "drop the flag or give the run's value, or start a new run with another --out (flags that may "
                f"change: {', '.join(names[d] for d in RESUME_FIELDS)})"
            )
    for name in RESUME_FIELDS:
        if name in given:
            old = getattr(config.train, name)
            setattr(config.train, name, getattr(args, name))
            if name != "max_steps" and old != getattr(args, name):
                log.info("resuming with %s %s (the run had %s)", names[name], getattr(args, name), old)
    if "max_steps" not in given:
        config.train.max_steps = None  # a step limit applies to the invocation that gave it only
    try:
        config.train.__post_init__()
    except ValueError as exc:
        raise MLVAEError(f"{exc}: change the flags (see --help)") from exc


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    rank_level = logging.INFO if distributed.env_rank() == 0 else logging.WARNING  # under torchrun rank 0 logs
    logging.basicConfig(level=rank_level, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    out = Path(args.out or f"runs/{args.dataset}-{args.model}")
    try:
        if args.resume:
            saved = out / "config.json"
            if not saved.exists():
                raise MLVAEError(f"--resume: {saved} not found; start the run without --resume first")
            try:
                config = RunConfig.from_dict(json.loads(saved.read_text()))
            except (ValueError, TypeError, AttributeError, RecursionError) as exc:
                raise MLVAEError(f"--resume: {saved} is not a readable run config ({exc}); restore it or start a "
                                 "new run with another --out") from exc
            apply_resume_flags(config, args, given_flags(build_parser(), argv))
        else:
            try:
                config = config_from_args(args)
            except ValueError as exc:  # flags that do not go together, e.g. --model svi --posterior mixture
                raise MLVAEError(f"{exc}: change the flags (see --help)") from exc
            if (out / "last").exists():
                raise MLVAEError(f"{out} already holds a run: pass --resume to continue it, or choose another --out")
        if distributed.env_rank() == 0:  # a full disk or unwritable --out is reported before any work
            check_output_folder(out, needed_bytes=checkpoint_bytes(config))
        ranks = distributed.setup(pick_device(config.train.device))
        torch.set_num_threads(config.train.num_threads or max(1, (os.cpu_count() or 1) // ranks.local_world_size))
        splits = load_splits(config.data)
        trainer_type = trainer_class(config.model.model_type)
        trainer = trainer_type(config, splits, out, rank=ranks.rank, world_size=ranks.world_size)
        resumed = args.resume and trainer.resume()
        distributed.check_same_on_all_ranks(
            trainer.progress.step if resumed else -1, "the step to resume from",
            f"every node must see the same {out}/last: put --out on storage shared by all nodes",
        )
        if not resumed and config.train.init_from:
            trainer.warm_start(config.train.init_from)
        if resumed:
            log.info("resumed %s at epoch %d, step %d", out, trainer.progress.epoch + 1, trainer.progress.step)
            for group in trainer.optimizer.param_groups:  # the saved optimiser state holds the old rate
                group["lr"] = config.train.lr
        log.info("training %s on %s (%d train / %d val images) on %s", config.model.model_type,
                 config.data.dataset, len(trainer.train_data), len(trainer.val_data), trainer.device)
        trainer.fit()
        distributed.barrier()  # rank 0 has written the last checkpoint
        log.info("done: best checkpoint in %s", out / "best")
        if args.push_to_hub and ranks.is_main:
            push_run(out, args.push_to_hub)
    except (MLVAEError, OSError, KeyboardInterrupt) as exc:
        return exit_code_of(exc, log, f"interrupted: continue with  python -m mlvae.train --out {out} --resume")
    finally:
        distributed.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
