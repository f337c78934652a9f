"""``python -m mlvae.evaluate``: the paper's experiments on a trained checkpoint, into one folder.

Writes the swap grids (figure 4, strategies 1 and 2), the interpolation grid (5b), generation (5a), pooled
vs unpooled reconstructions (6a/6b), two probes side by side (a: the classifier table of supplement §3; b:
linear and MLP probes on posterior means), the class judge's swap trials (class-grouped data) and a
``report.md`` that shows them all. Every latent operation comes from ``mlvae.latent``.

Each part is a section function ``(EvalRun) -> Markdown lines | None`` listed in ``SECTIONS`` (``--identity``
adds the faces identity judge).

Examples:
  python -m mlvae.evaluate runs/mnist --baseline runs/mnist-vae --out runs/mnist/eval
  python -m mlvae.evaluate runs/faces --out runs/faces/eval
  python -m mlvae.evaluate faces --identity --data-dir $MLVAE_DATA_DIR/faces-celeba200 --data-dir $MLVAE_DATA_DIR/faces-lfw
  python -m mlvae.evaluate faces --data-dir my_people/ --all-groups --out eval-mine   # other people, all unseen
  python -m mlvae.evaluate runs/mnist --quick --out /tmp/eval     # seconds: a smoke run
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import logging
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch

from . import figures, latent
from .checkpoint import atomic_write, load_model, resolve_checkpoint, write_json
from .class_judge import class_trials, judge_accuracy, train_judge
from .classifier import FeatureSource, ProtocolConfig, check_enough_images, largest_k, run_protocol
from .config import RunConfig
from .data import load_splits
from .data.grouped import GroupedImages
from .data.loading import data_root
from .device import pick_device
from .errors import DataError, MLVAEError
from .heldout import find_split, load_test_images
from .identity import identity_json, identity_markdown, identity_report, identity_trials
from .model import MLVAE, Encoding
from .probe import ProbeConfig, run_probes
from .qualitative import QUICK_SIZES, FigureSizes, make_figures
from .report import (
    ReportContext, classifier_markdown, classifier_table, figures_markdown, judge_markdown, probe_markdown, probe_table,
    render_report,
)

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
    "probe_json": "probe.json",
    "probe_table": "probe.md",
    "judge_json": "judge.json",
    "identity_json": "identity.json",
    "identity_table": "identity.md",
    "report": "report.md",
}
ENCODE_BATCH = 256
MNIST_K = 100  # supplement Fig. 2: K = 100 images per class for MNIST
# sha256 of the uint8 bytes of the standard MNIST test images (t10k-images-idx3-ubyte): names the data honestly
MNIST_TEST_SHA256 = "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"


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
    d.add_argument("--data-dir", action="append", default=None,
                   help="where the test images are; repeat it for a checkpoint trained on several folders, in the "
                   "same order (default: the checkpoint's data_dir; mnist: $MLVAE_DATA_DIR/mnist)")
    d.add_argument("--all-groups", action="store_true",
                   help="folder data: every group of --data-dir is a test group (e.g. another face collection); "
                   "default: the test groups of the checkpoint's split.json")
    c = p.add_argument_group("classifier (supplement §3)")
    c.add_argument("--K", type=int, default=None,
                   help="images per class pooled for the classifier's training features; tested at k = 1..K "
                   f"(default: {MNIST_K} for mnist, as supplement Fig. 2; for folders the largest K <= 10 with 10 "
                   "classes of 3K images)")
    c.add_argument("--trials", type=int, default=None,
                   help="trials with different test images (default: 5, as the paper; --quick: 2)")
    c.add_argument("--feature-mode", choices=["sample", "mean"], default="sample",
                   help="classifier features: a sample of the (pooled) posterior, as supplement eq. 4, or its mean "
                   "(default: sample)")
    c.add_argument("--max-epochs", type=int, default=None, help="classifier epochs at most (default: 300; --quick: 30)")
    c.add_argument("--patience", type=int, default=None, help="early-stopping patience in epochs (default: 20; --quick: 5)")
    b = p.add_argument_group("probe (b): linear and MLP probes on posterior means")
    b.add_argument("--probe-per-class", type=int, default=None,
                   help="training images per class, and as many other test images per class to test on "
                   "(default: 400, i.e. 4,000 + 4,000 on MNIST; --quick: 60); smaller classes lower it")
    b.add_argument("--probe-k", default="1,5,10", help="pooling levels of the content probes (default: 1,5,10)")
    j = p.add_argument_group("swap judge (class-grouped data: test classes are training classes)")
    j.add_argument("--judge-epochs", type=int, default=None,
                   help="epochs of the judge CNN on the real training images (default: 3; --quick: 1 on 5,000 images)")
    j.add_argument("--judge-trials", type=int, default=None, help="swap trials (default: 1000; --quick: 200)")
    j.add_argument("--judge-k", type=int, default=5, help="images pooled into each trial's content (default: 5)")
    j.add_argument("--no-judge", action="store_true", help="skip the swap judge")
    i = p.add_argument_group("identity judge (faces): a face recogniser says whose face a decoded image shows")
    i.add_argument("--identity", action="store_true",
                   help="run the identity judge (dlib's face-recognition ResNet, never trained on this model) on "
                   "recon, pooled, swap and generated faces of unseen test people, per source folder")
    i.add_argument("--identity-people", type=int, default=20,
                   help="test people judged among per source; chance is 1 / this (default: 20)")
    i.add_argument("--identity-k", type=int, default=5, help="photos pooled into each trial's content (default: 5)")
    i.add_argument("--identity-trials", type=int, default=None, help="trials per source (default: 400; --quick: 40)")
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
                   help="a fast smoke run (seconds): K = 3, 2 trials, 30 classifier epochs, small probes, a "
                   "quick judge, small figures; flags given explicitly still win")
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


# ---- the sections of the evaluation --------------------------------------------------------------------------
@dataclass
class EvalRun:
    """What every section reads: the arguments, the model, its test images and their encodings."""

    args: argparse.Namespace
    model: MLVAE
    config: RunConfig
    folder: Path
    test: GroupedImages
    encoding: Encoding
    out: Path
    baselines: list[tuple[str, MLVAE]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # report notes a section adds

    @property
    def baseline_labels(self) -> list[str]:
        return [label for label, _ in self.baselines]


Section = Callable[[EvalRun], "list[str] | None"]  # Markdown lines of report.md, or None when it does not apply


def figures_section(run: EvalRun) -> list[str]:
    """Swap grids, interpolation, generation and pooling figures."""
    sizes = QUICK_SIZES if run.args.quick else FigureSizes()
    for key, image in make_figures(run.model, run.test, sizes, run.args.pool_images, run.args.figure_mode,
                                    run.args.seed, decoded_only=run.args.decoded_only).items():
        save_png(image, run.out / FILES[key])
    return figures_markdown(report_context(run, 0.0), FILES)


def classifier_protocol(run: EvalRun) -> ProtocolConfig:
    """Probe (a)'s settings: K = 100 for mnist (supplement Fig. 2), flags and --quick as given."""
    a = run.args
    K = a.K or (3 if a.quick else MNIST_K if run.config.data.dataset == "mnist" else largest_k(run.test.groups, 10))
    return ProtocolConfig(
        max_k=K, trials=a.trials or (2 if a.quick else 5), seed=a.seed, feature_mode=a.feature_mode,
        max_epochs=a.max_epochs or (30 if a.quick else 300), patience=a.patience or (5 if a.quick else 20),
    )


def feature_sources(run: EvalRun) -> dict[str, FeatureSource]:
    """S (per image), C (pooled) and each baseline's whole latent (pooled), of every test image."""
    enc = run.encoding
    sources = {"S": FeatureSource(enc.style, pooled=False), "C": FeatureSource(enc.content, pooled=True)}
    for label, b_model in run.baselines:
        sources[label] = FeatureSource(latent.joint(latent.encode(b_model, run.test.images, ENCODE_BATCH)), pooled=True)
    return sources


def classifier_section(run: EvalRun) -> list[str]:
    """Probe (a): the supplement §3 classifier table, JSON, Markdown and plot."""
    results = run_protocol(run.test.groups, feature_sources(run), classifier_protocol(run))
    results["checkpoint"] = str(run.args.checkpoint)
    results["baselines"] = {label: name for label, name in zip(run.baseline_labels, run.args.baseline)}
    write_json(run.out / FILES["classifier_json"], results)
    atomic_write(run.out / FILES["classifier_table"], lambda tmp: tmp.write_text(classifier_table(results)))
    plot = figures.classifier_plot(results, f"{Path(str(run.args.checkpoint)).name}: classifier on latent features")
    atomic_write(run.out / FILES["classifier_plot"], lambda tmp: tmp.write_bytes(plot))
    return classifier_markdown(results, run.baseline_labels, FILES)


def probe_config(run: EvalRun) -> ProbeConfig:
    """Probe (b)'s settings from the flags (--quick: 60 images per class, 30 epochs)."""
    a = run.args
    per_class = a.probe_per_class or (60 if a.quick else 400)
    try:
        ks = tuple(sorted({int(k) for k in a.probe_k.split(",")}))
    except ValueError as exc:
        raise MLVAEError(f"--probe-k must be comma-separated integers, got {a.probe_k!r}") from exc
    if not ks or min(ks) < 1 or per_class < 1:
        raise MLVAEError("--probe-k values and --probe-per-class must be at least 1")
    return ProbeConfig(train_per_class=per_class, test_per_class=per_class, ks=ks, seed=a.seed,
                       **({"max_epochs": 30, "patience": 5} if a.quick else {}))


def probe_section(run: EvalRun) -> list[str]:
    """Probe (b): linear and MLP probes on posterior means, S and C at each k and each baseline's latent."""
    results = run_probes(run.test.groups, feature_sources(run), probe_config(run))
    results["checkpoint"] = str(run.args.checkpoint)
    write_json(run.out / FILES["probe_json"], results)
    atomic_write(run.out / FILES["probe_table"], lambda tmp: tmp.write_text(probe_table(results)))
    return probe_markdown(results, run.baseline_labels, FILES)


def judge_section(run: EvalRun) -> list[str] | None:
    """The class judge's swap trials (class-grouped data whose test classes are training classes)."""
    a = run.args
    if a.no_judge:
        return None
    data = run.config.data
    if data.dataset != "mnist":
        trained = set(((find_split(run.folder) or {}).get("groups") or {}).get("train", []))
        if not set(run.test.group_names) <= trained:
            run.notes.append("no swap judge: the test groups are not training groups (e.g. unseen identities), so a "
                             "class judge trained on the training images cannot name them (faces: the identity judge)")
            return None
    if a.data_dir is not None:
        data = dataclasses.replace(data, data_dir=a.data_dir[0] if len(a.data_dir) == 1 else a.data_dir)
    train = load_splits(data).train
    epochs = a.judge_epochs or (1 if a.quick else 3)
    if a.quick:
        train = train.subset(torch.randperm(len(train), generator=torch.Generator().manual_seed(a.seed))[:5000])
    try:
        judge = train_judge(train, epochs=epochs, seed=a.seed)
        result = class_trials(run.model, judge, run.test, a.judge_k, a.judge_trials or (200 if a.quick else 1000), a.seed)
        accuracy = judge_accuracy(judge, run.test)
    except (DataError, ValueError) as exc:
        run.notes.append(f"no swap judge: {exc}")
        return None
    record = {"figures": result.figures, "groups": result.groups, "trials": result.trials, "k": result.k,
              "test_accuracy": accuracy, "train_images": len(train), "epochs": epochs, "seed": a.seed}
    write_json(run.out / FILES["judge_json"], record)
    return judge_markdown(record, FILES)


def identity_section(run: EvalRun) -> list[str] | None:
    """The identity judge's trials on faces (``--identity``): table, JSON and report lines."""
    a = run.args
    if not a.identity:
        return None
    trials = a.identity_trials or (40 if a.quick else 400)
    results = identity_trials(run.model, run.test, a.identity_people, a.identity_k, trials, a.seed)
    if not results:
        run.notes.append(f"no identity judge: no test source has 2 people with k + 1 = {a.identity_k + 1} photos")
        return None
    write_json(run.out / FILES["identity_json"], identity_json(results))
    table = identity_markdown(results)
    atomic_write(run.out / FILES["identity_table"], lambda tmp: tmp.write_text(table))
    print(table)
    return identity_report(table, FILES)


SECTIONS: list[Section] = [figures_section, classifier_section, probe_section, judge_section, identity_section]


# ---- the whole evaluation ------------------------------------------------------------------------------------
def prepare(args: argparse.Namespace) -> EvalRun:
    """Load the model, its baselines and test images, and encode the test images once."""
    device = pick_device(args.device)
    out = Path(args.out) if args.out else default_out(args.checkpoint)
    folder = resolve_checkpoint(args.checkpoint)
    model, config = load_model(folder, device)
    baselines: list[tuple[str, MLVAE]] = []
    for name in args.baseline:
        b_model, b_config = load_model(name, device)
        check_compatible(config, b_config, name)
        baselines.append((baseline_label(b_config, [label for label, _ in baselines]), b_model))
    test = load_test_images(folder, config.data, args.data_dir, args.all_groups)
    log.info("%d test images in %d groups", len(test), len(torch.unique(test.groups)))
    run = EvalRun(args, model, config, folder, test, latent.encode(model, test.images, ENCODE_BATCH), out, baselines)
    check_enough_images(test.groups, classifier_protocol(run).max_k)  # before minutes of work, not after
    return run


def report_context(run: EvalRun, seconds: float) -> ReportContext:
    """The report's facts about the run."""
    notes = [] if run.baselines else ["no baseline checkpoint given (`--baseline`): the probe tables have no VAE line"]
    if run.args.quick:
        notes.append("`--quick` smoke run: small K, few trials, epochs and images; not a measurement")
    return ReportContext(
        checkpoint=str(run.args.checkpoint), model_description=describe_model(run.config),
        test_description=describe_test_set(run.config, run.test, run.args), baselines=run.baseline_labels,
        figure_mode=run.args.figure_mode, pool_images=run.args.pool_images, seconds=seconds, notes=notes + run.notes,
    )


def evaluate(args: argparse.Namespace, sections: Sequence[Section] = SECTIONS) -> Path:
    """Run every section of the evaluation and write ``report.md``; returns the output folder."""
    start = time.perf_counter()
    run = prepare(args)
    run.out.mkdir(parents=True, exist_ok=True)
    parts = []
    for section in sections:
        log.info("%s", section.__doc__.split(":")[0].rstrip("."))
        if (lines := section(run)) is not None:
            parts.append(lines)
    text = render_report(report_context(run, time.perf_counter() - start), parts)
    atomic_write(run.out / FILES["report"], lambda tmp: tmp.write_text(text))
    return run.out


def mnist_root(config: RunConfig, args: argparse.Namespace) -> Path | None:
    """The torchvision-layout folder the mnist loader reads (None: torchvision's download cache)."""
    given = args.data_dir or config.data.data_dir
    if given:
        return Path(given[0] if isinstance(given, list) else given)
    return data_root() / "mnist" if data_root() else None


def describe_test_set(config: RunConfig, test: GroupedImages, args: argparse.Namespace) -> str:
    """Where the test images came from, in one line; "the standard MNIST test set" only when its bytes are."""
    groups = len(torch.unique(test.groups))
    if config.data.dataset == "mnist":
        root = mnist_root(config, args)
        where = f"`{root}`" if root else "torchvision's download"
        if hashlib.sha256(test.images.numpy().tobytes()).hexdigest() == MNIST_TEST_SHA256:
            return f"the standard MNIST test set ({len(test)} images from {where}, grouped by digit)"
        return (f"{len(test)} test images (the t10k files) of the torchvision-layout data set in {where}, grouped by "
                f"their {groups} labels; not the standard MNIST test set (its images differ)")
    source = args.data_dir or config.data.data_dir
    source = ", ".join(source) if isinstance(source, list) else source
    which = "every group of the folder (--all-groups)" if args.all_groups else "the test groups of the checkpoint's split"
    return f"{len(test)} images of {groups} groups from {source}: {which}, unseen in training"


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    if args.threads:
        torch.set_num_threads(args.threads)
    for flag, value in (("--K", args.K), ("--trials", args.trials), ("--max-epochs", args.max_epochs),
                        ("--patience", args.patience), ("--judge-epochs", args.judge_epochs),
                        ("--judge-trials", args.judge_trials), ("--judge-k", args.judge_k),
                        ("--identity-people", args.identity_people), ("--identity-k", args.identity_k),
                        ("--identity-trials", args.identity_trials)):
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
