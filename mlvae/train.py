"""``python -m mlvae.train``: train an ML-VAE (or a baseline) on grouped images.

Examples:
  python -m mlvae.train --dataset mnist --epochs 20 --out runs/mnist
  python -m mlvae.train --dataset folder --data-dir faces/ --arch conv --width 0.5 --out runs/faces
  python -m mlvae.train --out runs/mnist --resume        # continue an interrupted run
  torchrun --nproc_per_node 4 -m mlvae.train --dataset folder --data-dir faces/ --out runs/faces   # 4 GPUs (DDP)
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import torch

from . import distributed
from .config import DataConfig, ModelConfig, RunConfig, TrainConfig
from .data import load_splits
from .device import pick_device
from .errors import MLVAEError
from .registry import trainer_class
from .training import check_output_folder, checkpoint_bytes

log = logging.getLogger("mlvae.train")

DATASET_DEFAULTS = {
    # dataset: (architecture, latent_dim, image_size, channels, likelihood) of supplement §2.1: the MNIST decoder
    # outputs 784 means (unit variance), the 64x64 decoder a mean and a 5*tanh log-variance image
    "mnist": ("mlp", 10, 28, 1, "normal-unit"),
    "folder": ("conv", 50, 64, 3, "normal"),
}


def build_parser() -> argparse.ArgumentParser:
    """The CLI; every option has a default that works."""
    p = argparse.ArgumentParser(
        prog="python -m mlvae.train",
        description="Train a Multi-Level VAE (Bouchacourt et al.) on grouped images. Each minibatch holds "
        "--groups-per-batch groups; every group shares one content latent, pooled as a product of Normals.",
        epilog=__doc__.split("Examples:")[1] and "examples:" + __doc__.split("Examples:")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d = p.add_argument_group("data")
    d.add_argument("--dataset", choices=["mnist", "folder"], default="mnist",
                   help="mnist: digits grouped by label (paper split). folder: one subfolder of images per group. "
                   "(default: mnist)")
    d.add_argument("--data-dir", action="append", default=None,
                   help="folder dataset: the folder of group subfolders; repeat it to train on several folders "
                   "together (each split by the same fractions); mnist: the torchvision root "
                   "(default: $MLVAE_DATA_DIR/mnist, else download)")
    d.add_argument("--align-faces", action="store_true",
                   help="folder: find the largest face in each photo and warp it to the canonical framing "
                   "(dlib landmarks, mlvae.faces); photos without a face are skipped. Crops are cached on disk "
                   "($MLVAE_CACHE_DIR or ~/.cache/mlvae), keyed by file content")
    d.add_argument("--crop-fraction", type=float, default=None,
                   help="centre square crop as a fraction of the shorter side before resizing "
                   "(default: 1.0 for mnist, 0.8 for folder)")
    d.add_argument("--val-fraction", type=float, default=0.1, help="folder: fraction of groups for validation (default: 0.1)")
    d.add_argument("--test-fraction", type=float, default=0.1, help="folder: fraction of groups for test (default: 0.1)")
    d.add_argument("--split-seed", type=int, default=0, help="seed of the train/val/test split (default: 0)")
    m = p.add_argument_group("model")
    m.add_argument("--model", choices=["mlvae", "vae", "svi", "svi-encode", "reg-vae"], default="mlvae",
                   help="mlvae: grouped model; vae: plain VAE baseline with the same networks; svi: free per-image "
                   "style and per-group content parameters, test-time inference by optimisation (supplement §7); "
                   "svi-encode: an encoder fitted to a trained SVI model on generated samples (supplement eq. 17, "
                   "needs --svi-checkpoint); reg-vae: VAE with per-image content and the symmetrised-KL group "
                   "penalty of supplement eq. 18 (default: mlvae)")
    m.add_argument("--reg-lambda", type=float, default=ModelConfig.reg_lambda,
                   help=f"reg-vae: weight lambda of the eq. 18 penalty (default: {ModelConfig.reg_lambda})")
    m.add_argument("--inference-steps", type=int, default=ModelConfig.inference_steps,
                   help="svi: Adam steps of test-time inference on new images, in validation and encode "
                   f"(default: {ModelConfig.inference_steps})")
    m.add_argument("--inference-lr", type=float, default=ModelConfig.inference_lr,
                   help=f"svi: Adam learning rate of test-time inference (default: {ModelConfig.inference_lr})")
    m.add_argument("--svi-checkpoint", default=None,
                   help="svi-encode: the trained SVI checkpoint (run folder or best/) whose decoder the encoder is fitted to")
    m.add_argument("--posterior", choices=["product", "mixture"], default="product",
                   help="group content posterior: product of Normals (paper) or mixture (supplement §1)")
    m.add_argument("--arch", choices=["mlp", "conv"], default=None,
                   help="networks of supplement §2.1 (default: mlp for mnist, conv for folder)")
    m.add_argument("--latent-dim", type=int, default=None, help="d, size of the content, and of the style unless "
                   "--style-dim is given (default: 10 mnist, 50 folder)")
    m.add_argument("--style-dim", type=int, default=None,
                   help="size of the style latent, if not d: a style smaller than the content has less room to "
                   "copy a photo's identity (a departure from the paper, which uses d for both; default: d)")
    m.add_argument("--width", type=float, default=1.0, help="conv channel multiplier; 0.25-0.5 for CPUs (default: 1.0)")
    m.add_argument("--likelihood", choices=["normal", "normal-unit", "normal-fixed", "bernoulli"], default=None,
                   help="decoder likelihood: Normal with learned 5*tanh-bounded log-variance (the paper's faces "
                   "decoder), Normal with unit variance (a mean-only decoder, as the paper's 784-output MNIST "
                   "decoder reads), Normal with the fixed standard deviation --sigma, or Bernoulli "
                   "(default: normal-unit for mnist, normal for folder)")
    m.add_argument("--sigma", type=float, default=ModelConfig.sigma,
                   help=f"normal-fixed: the decoder's standard deviation per pixel, in [0, 1] units (default: {ModelConfig.sigma})")
    t = p.add_argument_group("training")
    t.add_argument("--epochs", type=int, default=None, help="epochs (default: 20)")
    t.add_argument("--groups-per-batch", type=int, default=64,
                   help="groups in a minibatch; per rank under torchrun (default: 64)")
    t.add_argument("--min-group-size", type=int, default=1,
                   help="smallest group drawn; groups with fewer images are not trained on (default: 1)")
    t.add_argument("--max-group-size", type=int, default=10, help="larger groups are subsampled to this (default: 10)")
    t.add_argument("--max-images-per-group", type=int, default=None,
                   help="images of one group drawn per epoch, so that a group with hundreds of photos does not "
                   "dominate (default: all)")
    t.add_argument("--flip", action="store_true", help="mirror a random half of the training images left-right")
    t.add_argument("--style-kl-weight", type=float, default=1.0,
                   help="weight of the style KL in the training loss at step 0, falling linearly to 1 at "
                   "--style-kl-anneal-steps: a departure from the paper that delays the style so that the "
                   "shared content is learnt first; validation always reports the true ELBO (default: 1, the paper)")
    t.add_argument("--style-kl-anneal-steps", type=int, default=0,
                   help="steps over which --style-kl-weight falls to 1 (default: 0, the weight stays constant)")
    t.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default: 1e-3, as the paper)")
    t.add_argument("--seed", type=int, default=0, help="makes a run reproducible (default: 0)")
    t.add_argument("--device", default="auto", help="auto (CUDA, then Apple MPS, then CPU), cpu, cuda, cuda:1, mps")
    t.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: all cores)")
    t.add_argument("--max-train-images", type=int, default=None, help="use a random subset of the training split (quick runs)")
    t.add_argument("--max-val-images", type=int, default=None, help="use a random subset of the validation split")
    t.add_argument("--max-steps", type=int, default=None, help="stop after this many optimiser steps")
    o = p.add_argument_group("output")
    o.add_argument("--out", default=None, help="run folder (default: runs/<dataset>-<model>)")
    o.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    o.add_argument("--push-to-hub", metavar="REPO_ID", default=None,
                   help="after training, upload the best checkpoint and its model card to this Hub repo")
    return p


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """A RunConfig from parsed flags, with per-dataset defaults."""
    arch, latent, size, channels, likelihood = DATASET_DEFAULTS[args.dataset]
    arch = args.arch or arch
    if args.dataset == "mnist" and arch == "conv":
        raise ValueError("--arch conv takes 64x64 colour images and mnist is 28x28 greyscale: use --arch mlp")
    if arch == "conv":
        size, channels = 64, 3
    crop = args.crop_fraction if args.crop_fraction is not None else (1.0 if args.dataset == "mnist" else 0.8)
    return RunConfig(
        model=ModelConfig(
            model_type=args.model, posterior=args.posterior, architecture=arch,
            latent_dim=args.latent_dim or latent, style_dim=args.style_dim, image_channels=channels, image_size=size,
            width=args.width, likelihood=args.likelihood or likelihood, sigma=args.sigma, reg_lambda=args.reg_lambda,
            inference_steps=args.inference_steps, inference_lr=args.inference_lr, svi_checkpoint=args.svi_checkpoint,
        ),
        data=DataConfig(
            dataset=args.dataset, data_dir=_one_or_list(args.data_dir), image_size=size, image_channels=channels,
            crop_fraction=crop, align_faces=args.align_faces, val_fraction=args.val_fraction, test_fraction=args.test_fraction,
            split_seed=args.split_seed,
        ),
        train=TrainConfig(
            epochs=20 if args.epochs is None else args.epochs, groups_per_batch=args.groups_per_batch, min_group_size=args.min_group_size,
            max_group_size=args.max_group_size, lr=args.lr, seed=args.seed, device=args.device,
            max_train_images=args.max_train_images, max_val_images=args.max_val_images, max_steps=args.max_steps,
            num_threads=args.threads, max_images_per_group=args.max_images_per_group, flip=args.flip,
            style_kl_weight=args.style_kl_weight, style_kl_anneal_steps=args.style_kl_anneal_steps,
        ),
    )


# flags that may change when a run is resumed; every other flag must agree with the run's config.json
RESUME_FLAGS = {"epochs": "epochs", "max_steps": "max_steps", "lr": "lr", "threads": "num_threads", "device": "device"}
ALWAYS_ALLOWED = {"out", "resume", "push_to_hub"}
RENAMED = {"arch": ("model", "architecture"), "model": ("model", "model_type")}  # flag dest -> config field


def given_flags(argv: list[str] | None) -> set[str]:
    """The destinations of the flags actually typed on the command line (not their defaults)."""
    parser = build_parser()
    for action in parser._actions:
        action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(argv)))


def config_field(config: RunConfig, dest: str):
    """The value in ``config`` that the flag with destination ``dest`` sets."""
    if dest in RENAMED:
        section, name = RENAMED[dest]
        return getattr(getattr(config, section), name)
    for section in (config.model, config.data, config.train):
        if hasattr(section, dest):
            value = getattr(section, dest)
            if dest == "data_dir" and value:  # the same folders, however they are spelt
                return sorted(str(Path(d).resolve()) for d in ([value] if isinstance(value, str) else value))
            return value
    raise KeyError(dest)


def apply_resume_flags(config: RunConfig, args: argparse.Namespace, given: set[str]) -> None:
    """Apply the flags that may change on resume (--epochs, --max-steps, --lr, --threads, --device); any other
    flag may be repeated (e.g. the whole command again, with --resume) but not changed."""
    fixed = given - set(RESUME_FLAGS) - ALWAYS_ALLOWED
    if fixed:
        try:
            wanted = config_from_args(args)
        except ValueError as exc:
            raise MLVAEError(f"{exc}: change the flags (see --help)") from exc
        changed = sorted(d for d in fixed if config_field(wanted, d) != config_field(config, d))
        if changed:
            names = ", ".join(f"--{d.replace('_', '-')} (the run has {config_field(config, d)!r})" for d in changed)
            raise MLVAEError(
                f"--resume continues the run as its config.json sets it up, and {names} cannot change on resume: "
                "drop the flag or give the run's value, or start a new run with another --out (flags that may "
                "change: --epochs, --max-steps, --lr, --threads, --device)"
            )
    for flag, field_name in RESUME_FLAGS.items():
        if flag in given:
            old = getattr(config.train, field_name)
            setattr(config.train, field_name, getattr(args, flag))
            if flag != "max_steps" and old != getattr(args, flag):
                log.info("resuming with --%s %s (the run had %s)", flag.replace("_", "-"), getattr(args, flag), old)
    if "max_steps" not in given:
        config.train.max_steps = None  # a step limit applies to the invocation that gave it only
    try:
        config.train.__post_init__()
    except ValueError as exc:
        raise MLVAEError(f"{exc}: change the flags (see --help)") from exc


def _one_or_list(dirs: list[str] | None) -> str | list[str] | None:
    return dirs[0] if dirs and len(dirs) == 1 else dirs


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
            apply_resume_flags(config, args, given_flags(argv))
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
        trainer = trainer_class(config.model.model_type)(config, splits, out, rank=ranks.rank, world_size=ranks.world_size)
        resumed = args.resume and trainer.resume()
        distributed.check_same_on_all_ranks(
            trainer.progress.step if resumed else -1, "the step to resume from",
            f"every node must see the same {out}/last: put --out on storage shared by all nodes",
        )
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
            from .hub import push_run

            push_run(out, args.push_to_hub)
    except MLVAEError as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.error("interrupted: continue with  python -m mlvae.train --out %s --resume", out)
        return 130
    finally:
        distributed.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
