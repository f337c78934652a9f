"""``python -m mlvae.evaluate``: the paper's experiments on a trained checkpoint, into one folder.

Writes the swap grids (figure 4, strategies 1 and 2), the interpolation grid (5b), generation (5a), pooled
vs unpooled reconstructions (6a/6b), the classifier table of supplement §3 (JSON, Markdown, plot) and a
``report.md`` that shows them all. Every latent operation comes from ``mlvae.latent``.

Examples:
  python -m mlvae.evaluate runs/mnist --baseline runs/mnist-vae --out runs/mnist/eval
  python -m mlvae.evaluate runs/faces --out runs/faces/eval
  python -m mlvae.evaluate faces --data-dir $MLVAE_DATA_DIR/faces-lfw150 --all-groups --out eval-lfw
  python -m mlvae.evaluate runs/mnist --quick --out /tmp/eval     # seconds: a smoke run
"""
from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from pathlib import Path
from typing import Sequence

import torch

from . import figures, latent
from .checkpoint import atomic_write, load_model, resolve_checkpoint, write_json
from .classifier import FeatureSource, ProtocolConfig, check_enough_images, largest_k, run_protocol
from .config import RunConfig
from .data.grouped import GroupedImages
from .device import pick_device
from .errors import MLVAEError
from .heldout import load_test_images
from .qualitative import QUICK_SIZES, FigureSizes, make_figures
from .report import ReportContext, classifier_table, render_report

log = logging.getLogger("mlvae.evaluate")

FILES = {
    "swap_strategy1": "swap_strategy1.png",
    "swap_strategy2": "swap_strategy2.png",
    "interpolation": "interpolation.png",
    "generation": "generation.png",
    "pooling": "pooling.png",
    "classifier_json": "classifier.json",
    "classifier_table": "classifier.md",
    "classifier_plot": "classifier.png",
    "report": "report.md",
}
ENCODE_BATCH = 256


def build_parser() -> argparse.ArgumentParser:
    """The CLI; defaults reproduce the paper's evaluation in minutes on a CPU for MNIST."""
    p = argparse.ArgumentParser(
        prog="python -m mlvae.evaluate",
        description="Evaluate a trained ML-VAE (or baseline) on its test images: swap, interpolation, generation "
        "and pooling figures, and the supplement §3 classifier table on style S and content C against k pooled "
        "images; everything lands in --out with a report.md.",
        epilog="examples:" + __doc__.split("Examples:")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("checkpoint", metavar="RUN_OR_CHECKPOINT",
                   help="a training run folder (uses its best/), a checkpoint folder, a shipped name or a Hub repo id")
    p.add_argument("--out", default=None, help="output folder (default: runs/eval/<checkpoint name>)")
    p.add_argument("--baseline", action="append", default=[], metavar="RUN_OR_CHECKPOINT",
                   help="a baseline (e.g. the plain VAE, --model vae) whose whole latent, pooled like the content, "
                   "is a line of the table; repeat for several")
    d = p.add_argument_group("test data")
    d.add_argument("--data-dir", default=None,
                   help="where the test images are (default: the checkpoint's data_dir; mnist: $MLVAE_DATA_DIR/mnist)")
    d.add_argument("--all-groups", action="store_true",
                   help="folder data: every group of --data-dir is a test group (e.g. another face collection); "
                   "default: the test groups of the checkpoint's split.json")
    c = p.add_argument_group("classifier (supplement §3)")
    c.add_argument("--K", type=int, default=None,
                   help="images per class pooled for the classifier's training features; tested at k = 1..K "
                   "(default: 20 for mnist; for folders the largest K <= 10 with 10 classes of 3K images)")
    c.add_argument("--trials", type=int, default=None,
                   help="trials with different test images (default: 5, as the paper; --quick: 2)")
    c.add_argument("--feature-mode", choices=["sample", "mean"], default="sample",
                   help="classifier features: a sample of the (pooled) posterior, as supplement eq. 4, or its mean "
                   "(default: sample)")
    c.add_argument("--max-epochs", type=int, default=None, help="classifier epochs at most (default: 300; --quick: 30)")
    c.add_argument("--patience", type=int, default=None, help="early-stopping patience in epochs (default: 20; --quick: 5)")
    f = p.add_argument_group("figures")
    f.add_argument("--figure-mode", choices=["mean", "sample"], default="mean",
                   help="figures decode posterior means or one sample per image (the paper's figures sample) (default: mean)")
    f.add_argument("--decoded-only", action="store_true",
                   help="show reconstructions where figures would show input images, so no input photo is "
                   "published (use for licensed photos, e.g. faces in a model card)")
    f.add_argument("--pool-images", type=int, default=10,
                   help="strategy 2: other test images of each input's group pooled into its content (default: 10)")
    r = p.add_argument_group("run")
    r.add_argument("--quick", action="store_true",
                   help="a fast smoke run (seconds): K = 3, 2 trials, 30 classifier epochs, small figures; "
                   "flags given explicitly still win")
    r.add_argument("--seed", type=int, default=0, help="picks the images shown and seeds all sampling (default: 0)")
    r.add_argument("--device", default="cpu", help="cpu (default), cuda, mps or auto")
    r.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    return p


def default_out(checkpoint: str) -> Path:
    """runs/eval/<last parts of the checkpoint name, made file-safe>."""
    parts = [part for part in Path(checkpoint).parts if part not in ("/", ".", "..", "best")]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(parts[-2:]) or "checkpoint")
    return Path("runs") / "eval" / name


def describe_model(config: RunConfig) -> str:
    """One line: model type, posterior, networks, latent size, likelihood."""
    m = config.model
    kind = "ML-VAE" if m.model_type == "mlvae" else m.model_type.upper() if m.model_type == "vae" else m.model_type
    return (f"{kind} ({m.posterior} posterior, {m.architecture} networks, d = {m.latent_dim}, {m.likelihood} "
            f"likelihood, {m.image_channels}x{m.image_size}x{m.image_size} images)")


def baseline_label(config: RunConfig, taken: Sequence[str]) -> str:
    """VAE for the plain VAE, else the model type; numbered when repeated."""
    base = "VAE" if config.model.model_type == "vae" else config.model.model_type
    label, n = base, 2
    while label in taken or label in ("S", "C"):
        label, n = f"{base}-{n}", n + 1
    return label


def check_compatible(main: RunConfig, other: RunConfig, name: str) -> None:
    """A baseline must read the same images as the evaluated model."""
    a, b = main.model, other.model
    if (a.image_channels, a.image_size) != (b.image_channels, b.image_size):
        raise MLVAEError(
            f"baseline {name} takes {b.image_channels}x{b.image_size}x{b.image_size} images but the model takes "
            f"{a.image_channels}x{a.image_size}x{a.image_size}: give a baseline trained on the same data"
        )
    if main.data.crop_fraction != other.data.crop_fraction:
        log.warning("baseline %s was trained with crop fraction %s, the model with %s: the baseline sees the model's crop",
                    name, other.data.crop_fraction, main.data.crop_fraction)


def save_png(image, path: Path) -> None:
    """Atomically write a PIL image as PNG."""
    atomic_write(path, lambda tmp: image.save(tmp, format="PNG"))


# ---- the whole evaluation ------------------------------------------------------------------------------------
def evaluate(args: argparse.Namespace) -> Path:
    """Run every part of the evaluation; returns the output folder."""
    start = time.perf_counter()
    device = pick_device(args.device)
    out = Path(args.out) if args.out else default_out(args.checkpoint)
    folder = resolve_checkpoint(args.checkpoint)
    model, config = load_model(folder, device)
    baselines = []
    for name in args.baseline:
        b_model, b_config = load_model(name, device)
        check_compatible(config, b_config, name)
        baselines.append((baseline_label(b_config, [label for label, _ in baselines]), b_model))
    test = load_test_images(folder, config.data, args.data_dir, args.all_groups)
    log.info("%d test images in %d groups", len(test), len(torch.unique(test.groups)))

    sizes = QUICK_SIZES if args.quick else FigureSizes()
    K = args.K or (3 if args.quick else 20 if config.data.dataset == "mnist" else largest_k(test.groups, 10))
    protocol = ProtocolConfig(
        max_k=K, trials=args.trials or (2 if args.quick else 5), seed=args.seed, feature_mode=args.feature_mode,
        max_epochs=args.max_epochs or (30 if args.quick else 300), patience=args.patience or (5 if args.quick else 20),
    )
    check_enough_images(test.groups, K)  # before minutes of work, not after
    out.mkdir(parents=True, exist_ok=True)
    for key, image in make_figures(model, test, sizes, args.pool_images, args.figure_mode, args.seed,
                                    decoded_only=args.decoded_only).items():
        save_png(image, out / FILES[key])

    encoding = latent.encode(model, test.images, ENCODE_BATCH)
    sources = {"S": FeatureSource(encoding.style, pooled=False), "C": FeatureSource(encoding.content, pooled=True)}
    for label, b_model in baselines:
        sources[label] = FeatureSource(latent.joint(latent.encode(b_model, test.images, ENCODE_BATCH)), pooled=True)
    results = run_protocol(test.groups, sources, protocol)
    results["checkpoint"] = str(args.checkpoint)
    results["baselines"] = {label: name for (label, _), name in zip(baselines, args.baseline)}
    write_json(out / FILES["classifier_json"], results)
    table = classifier_table(results)
    atomic_write(out / FILES["classifier_table"], lambda tmp: tmp.write_text(table))
    plot = figures.classifier_plot(results, f"{Path(str(args.checkpoint)).name}: classifier on latent features")
    atomic_write(out / FILES["classifier_plot"], lambda tmp: tmp.write_bytes(plot))

    notes = [] if baselines else ["no baseline checkpoint given (`--baseline`): the table has no VAE line"]
    if args.quick:
        notes.append("`--quick` smoke run: small K, few trials and epochs; not a measurement")
    context = ReportContext(
        checkpoint=str(args.checkpoint), model_description=describe_model(config),
        test_description=describe_test_set(config, test, args), baselines=[label for label, _ in baselines],
        figure_mode=args.figure_mode, pool_images=args.pool_images, seconds=time.perf_counter() - start, notes=notes,
    )
    text = render_report(context, results, FILES)
    atomic_write(out / FILES["report"], lambda tmp: tmp.write_text(text))
    return out


def describe_test_set(config: RunConfig, test: GroupedImages, args: argparse.Namespace) -> str:
    """Where the test images came from, in one line."""
    groups = len(torch.unique(test.groups))
    if config.data.dataset == "mnist":
        return f"the standard MNIST test set ({len(test)} images, grouped by digit)"
    source = args.data_dir or config.data.data_dir
    which = "every group of the folder (--all-groups)" if args.all_groups else "the test groups of the checkpoint's split"
    return f"{len(test)} images of {groups} groups from {source}: {which}, unseen in training"


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    if args.threads:
        torch.set_num_threads(args.threads)
    for flag, value in (("--K", args.K), ("--trials", args.trials), ("--max-epochs", args.max_epochs),
                        ("--patience", args.patience)):
        if value is not None and value < 1:
            log.error("%s must be at least 1, got %d", flag, value)
            return 2
    if args.pool_images < 0:
        log.error("--pool-images must be 0 or more, got %d", args.pool_images)
        return 2
    try:
        out = evaluate(args)
    except MLVAEError as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.error("interrupted: the files already written in the output folder are complete; re-run to redo")
        return 130
    log.info("done: %s", out / FILES["report"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
