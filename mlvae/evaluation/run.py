"""An evaluation of a checkpoint (``evaluate(EvaluationConfig(...))``): the paper's experiments, into one folder.

Writes the swap grids (figure 4, strategies 1 and 2), the interpolation grid (5b), generation (5a), pooled
vs unpooled reconstructions (6a/6b), two probes side by side (a: the classifier table of supplement §3; b:
linear and MLP probes on posterior means), the class judge's swap trials (class-grouped data) and a
``report.md`` that shows them all. Every latent operation comes from ``mlvae.latent``.

Each part is a section function ``(EvalRun) -> Markdown lines | None`` listed in ``SECTIONS`` (``--identity``
adds the faces identity judge; ``--identity-only`` runs the figures and it alone).
"""
from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mlvae import latent
from mlvae.checkpoint.card import read_card
from mlvae.checkpoint.folder import atomic_write, find_split, load_model, resolve_checkpoint, write_json
from mlvae.config import RunConfig, data_dir_list, shape_text
from mlvae.data import load_splits
from mlvae.data.grouped import GroupedImages
from mlvae.data.loading import data_folder, data_root
from mlvae.device import pick_device
from mlvae.errors import DataError, MLVAEError
from mlvae.evaluation import figures
from mlvae.evaluation.album import (
    DIGIT_ALBUMS,
    FACE_ALBUMS,
    AlbumRow,
    album_markdown,
    descriptor_features,
    measure_rows,
    model_features,
    pca_features,
)
from mlvae.evaluation.class_judge import class_trials, judge_accuracy, train_judge
from mlvae.evaluation.code_usage import code_usage
from mlvae.evaluation.config import ALBUM_TRIALS, MNIST_K, EvaluationConfig
from mlvae.evaluation.goals import goals_from_card
from mlvae.evaluation.held_out import load_test_images, load_training_photos
from mlvae.evaluation.identity import (
    decoder_range,
    decoder_range_markdown,
    identity_json,
    identity_markdown,
    identity_report,
    identity_trials,
)
from mlvae.evaluation.linear_code import LinearCode, fit_linear_code
from mlvae.evaluation.mean_probes import ProbeConfig, run_probes
from mlvae.evaluation.qualitative import QUICK_SIZES, FigureSizes, make_figures
from mlvae.evaluation.report import (
    ReportContext,
    classifier_markdown,
    classifier_table,
    figures_markdown,
    judge_markdown,
    probe_markdown,
    probe_table,
    render_report,
)
from mlvae.evaluation.supplement_probe import (
    FeatureSource,
    ProtocolConfig,
    check_enough_images,
    largest_k,
    run_protocol,
)
from mlvae.grouping import SETTINGS_NAME, AlbumSettings
from mlvae.model.interface import Encoding, GroupedVAE
from mlvae.model_kinds import MODEL_KINDS

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
    "identity_fit_json": "identity_fit.json",
    "identity_code_json": "code_usage.json",
    "album_json": "album-grouping.json",
    "album_table": "album-grouping.md",
    "album_settings": SETTINGS_NAME,
    "report": "report.md",
}
ENCODE_BATCH = 256
FIT_PER_PERSON = 5  # photos of each judged person whose latents --identity-fit-steps fits
DECODER_RANGE_TEXT = (
    "### What the decoder can render\n\nThe same judge on photos of the same people drawn four ways: from the "
    "encoder's posterior means (amortised inference), and from latents fitted to each photo by Adam, starting there, "
    "under the MAP objective log p(x|c,s) + log p(c) + log p(s) or under the likelihood alone (`mlvae.evaluation."
    "latent_fit`). The last is the best this decoder renders the photo in pixels; when it too misses the person, "
    "the decoder, not the encoder or the objective, is what limits the figures above."
)
# sha256 of the uint8 bytes of the standard MNIST test images (t10k-images-idx3-ubyte): names the data honestly
MNIST_TEST_SHA256 = "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"


def default_out(checkpoint: str) -> Path:
    """runs/eval/<last parts of the checkpoint name, made file-safe>."""
    parts = [part for part in Path(checkpoint).parts if part not in ("/", ".", "..", "best")]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(parts[-2:]) or "checkpoint")
    return Path("runs") / "eval" / name


def describe_model(config: RunConfig) -> str:
    """One line: model type, posterior, networks, latent size, likelihood."""
    m = config.model
    return (f"{MODEL_KINDS[m.model_type].display} ({m.posterior} posterior, {m.architecture} networks, "
            f"d = {m.latent_dim}, {m.likelihood} likelihood, {shape_text(m.image_shape)} images)")


def baseline_label(config: RunConfig, taken: Sequence[str]) -> str:
    """The kind's display name (VAE for the plain VAE); numbered when repeated."""
    base = MODEL_KINDS[config.model.model_type].display
    label, n = base, 2
    while label in taken or label in ("S", "C"):
        label, n = f"{base}-{n}", n + 1
    return label


def check_compatible(main: RunConfig, other: RunConfig, name: str) -> None:
    """A baseline must read the same images as the evaluated model."""
    a, b = main.model, other.model
    if a.image_shape != b.image_shape:
        raise MLVAEError(f"baseline {name} takes {shape_text(b.image_shape)} images but the model takes "
                         f"{shape_text(a.image_shape)}: give a baseline trained on the same data")
    if main.data.crop_fraction != other.data.crop_fraction:
        log.warning("baseline %s was trained with crop fraction %s, the model with %s: "
                    "the baseline sees the model's crop", name, other.data.crop_fraction, main.data.crop_fraction)


def save_png(image, path: Path) -> None:
    """Atomically write a PIL image as PNG."""
    atomic_write(path, lambda tmp: image.save(tmp, format="PNG"))


# ---- the sections of the evaluation --------------------------------------------------------------------------
@dataclass
class EvalRun:
    """What every section reads: the arguments, the model, its test images and their encodings."""

    settings: EvaluationConfig
    model: GroupedVAE
    config: RunConfig
    folder: Path
    test: GroupedImages
    encoding: Encoding
    out: Path
    baselines: list[tuple[str, GroupedVAE]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # report notes a section adds

    @property
    def baseline_labels(self) -> list[str]:
        return [label for label, _ in self.baselines]


Section = Callable[[EvalRun], "list[str] | None"]  # Markdown lines of report.md, or None when it does not apply


def figures_section(run: EvalRun) -> list[str]:
    """Swap grids, interpolation, generation and pooling figures."""
    sizes = QUICK_SIZES if run.settings.quick else FigureSizes()
    for key, image in make_figures(run.model, run.test, sizes, run.settings.pool_images, run.settings.figure_mode,
                                    run.settings.seed, decoded_only=run.settings.decoded_only).items():
        save_png(image, run.out / FILES[key])
    return figures_markdown(report_context(run, 0.0), FILES)


def classifier_protocol(run: EvalRun) -> ProtocolConfig:
    """Probe (a)'s settings: K = 100 for mnist (supplement Fig. 2), flags and --quick as given."""
    a = run.settings
    K = a.setting("K") or (MNIST_K if run.config.data.dataset == "mnist" else largest_k(run.test.groups, 10))
    return ProtocolConfig(max_k=K, trials=a.setting("trials"), seed=a.seed, feature_mode=a.feature_mode,
                          max_epochs=a.setting("max_epochs"), patience=a.setting("patience"))


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
    results["checkpoint"] = str(run.settings.checkpoint)
    results["baselines"] = {label: name for label, name in zip(run.baseline_labels, run.settings.baseline, strict=True)}
    write_json(run.out / FILES["classifier_json"], results)
    atomic_write(run.out / FILES["classifier_table"], lambda tmp: tmp.write_text(classifier_table(results)))
    plot = figures.classifier_plot(results, f"{Path(str(run.settings.checkpoint)).name}: classifier on latent features")
    atomic_write(run.out / FILES["classifier_plot"], lambda tmp: tmp.write_bytes(plot))
    return classifier_markdown(results, run.baseline_labels, FILES)


def probe_config(run: EvalRun) -> ProbeConfig:
    """Probe (b)'s settings from the flags and the preset (its epochs and patience are the preset's)."""
    a = run.settings
    per_class = a.setting("probe_per_class")
    return ProbeConfig(train_per_class=per_class, test_per_class=per_class, ks=a.probe_ks, seed=a.seed,
                       max_epochs=a.preset.max_epochs, patience=a.preset.patience)


def probe_section(run: EvalRun) -> list[str]:
    """Probe (b): linear and MLP probes on posterior means, S and C at each k and each baseline's latent."""
    results = run_probes(run.test.groups, feature_sources(run), probe_config(run))
    results["checkpoint"] = str(run.settings.checkpoint)
    write_json(run.out / FILES["probe_json"], results)
    atomic_write(run.out / FILES["probe_table"], lambda tmp: tmp.write_text(probe_table(results)))
    return probe_markdown(results, run.baseline_labels, FILES)


def judge_section(run: EvalRun) -> list[str] | None:
    """The class judge's swap trials (class-grouped data whose test classes are training classes)."""
    a = run.settings
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
        data = data.with_data_dirs(a.data_dir)
    train = load_splits(data).train
    epochs = a.setting("judge_epochs")
    if a.preset.judge_images is not None:
        keep = torch.randperm(len(train), generator=torch.Generator().manual_seed(a.seed))[: a.preset.judge_images]
        train = train.subset(keep)
    try:
        judge = train_judge(train, epochs=epochs, seed=a.seed)
        result = class_trials(run.model, judge, run.test, a.judge_k, a.setting("judge_trials"), a.seed)
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
    a = run.settings
    if not (a.identity or a.identity_only):
        return None
    trials = a.setting("identity_trials")
    results = identity_trials(run.model, run.test, a.identity_people, a.identity_k, trials, a.seed)
    if not results:
        run.notes.append(f"no identity judge: no test source has 2 people with k + 1 = {a.identity_k + 1} photos")
        return None
    write_json(run.out / FILES["identity_json"], identity_json(results))
    card = read_card(run.folder)
    goals = goals_from_card(card.figures if card else {})
    table = identity_markdown(results, goals)
    atomic_write(run.out / FILES["identity_table"], lambda tmp: tmp.write_text(table))
    log.info("identity judge:\n%s", table)
    lines = identity_report(table, FILES) + code_usage_lines(run)
    linear = identity_linear_codes(run)
    if a.identity_fit_steps or linear:
        ranges = decoder_range(run.model, run.test, a.identity_people, a.identity_k + 1, FIT_PER_PERSON,
                               a.identity_fit_steps, a.seed, linear)
        judged = {s: {r: {"judged_right": v[0], "mse": v[1]} for r, v in rows.items()} for s, rows in ranges.items()}
        write_json(run.out / FILES["identity_fit_json"],
                   {"steps": a.identity_fit_steps, "per_person": FIT_PER_PERSON,
                    "code_size": code_size(run.config), **judged})
        fitted = decoder_range_markdown(ranges, a.identity_fit_steps, FIT_PER_PERSON, goals, code_size(run.config))
        log.info("decoder range:\n%s", fitted)
        lines += [DECODER_RANGE_TEXT, "", fitted,
                  f"All values: [`{FILES['identity_fit_json']}`]({FILES['identity_fit_json']}).", ""]
    return lines


def code_usage_lines(run: EvalRun) -> list[str]:
    """How much of its content and style the encoder uses on the test photos (``code_usage.json``), as report lines."""
    usage = {"content": code_usage(run.encoding.content), "style": code_usage(run.encoding.style)}
    write_json(run.out / FILES["identity_code_json"], {name: u.as_json() for name, u in usage.items()})
    log.info("code usage: content %s; style %s", usage["content"].text(), usage["style"].text())
    return [f"Code used on these {len(run.test)} test photos (KL of each photo's posterior to the prior): content "
            f"{usage['content'].text()}; style {usage['style'].text()}. A dimension at the prior is not read.", ""]


def code_size(config: RunConfig) -> int:
    """Numbers in one image's code: content + style."""
    return config.model.latent_dim + config.model.style_size


def identity_linear_codes(run: EvalRun) -> list[LinearCode]:
    """The linear references of ``--identity``: PCAs of the model's code size and of ``--identity-linear-sizes``,
    fitted to ``--identity-linear-photos`` prepared photos of the checkpoint's training people (none when 0)."""
    a = run.settings
    if not a.identity_linear_photos:
        return []
    photos = load_training_photos(run.folder, run.config.data, a.identity_linear_photos, a.data_dir, a.seed)
    sizes = sorted({code_size(run.config), *a.linear_sizes})
    log.info("linear references: PCA of %d training photos, %s components", len(photos), sizes)
    largest = fit_linear_code(photos.images, max(sizes), a.seed)
    return [LinearCode(largest.mean, largest.basis[:, :size]) for size in sizes if size <= largest.size]


def album_section(run: EvalRun) -> list[str] | None:
    """Album mode (``--album``): random albums of unseen groups grouped without labels, against reference rows."""
    a = run.settings
    if not (a.album or a.album_only):
        return None
    data = run.config.data if a.data_dir is None else run.config.data.with_data_dirs(a.data_dir)
    train = load_splits(data).train
    faces = data.dataset != "mnist" and data.align_faces
    rows = [AlbumRow(f"{MODEL_KINDS[run.config.model.model_type].display} content", model_features(run.model, False),
                     is_content=True),
            AlbumRow("raw pixels (PCA 50)", pca_features(train.images, a.seed))]
    rows += [AlbumRow(f"{label} latent", model_features(b_model, True)) for label, b_model in run.baselines]
    if faces:
        rows.append(AlbumRow("dlib recogniser (judge, reference)", descriptor_features))
    trials = a.album_trials or ALBUM_TRIALS[1 if a.quick else 0]
    results = measure_rows(rows, train, run.test, FACE_ALBUMS if data.dataset != "mnist" else DIGIT_ALBUMS,
                           trials, a.album_calibration, a.seed)
    results["checkpoint"] = str(a.checkpoint)
    write_json(run.out / FILES["album_json"], results)
    table = album_markdown(results)
    atomic_write(run.out / FILES["album_table"], lambda tmp: tmp.write_text(table))
    settings = AlbumSettings(**next(r["settings"] for r in results["rows"] if "settings" in r))
    settings.write(run.out)
    log.info("album grouping:\n%s", table)
    return ["## Album mode: grouping unlabelled albums", "",
            f"{trials} random albums of each kind, of test groups unseen in training; each row groups the same albums "
            "(`mlvae.grouping`). ARI: adjusted Rand index against the true groups (1 = exact, 0 = chance); purity: "
            "share of images whose group's majority is their own; count exact: albums whose number of groups was "
            "found. "
            f"Each row's temperature t was chosen on {a.album_calibration} albums of training groups.", "", table,
            f"The demo's grouping (chosen on training groups): {settings.method}, t = {settings.temperature:g}; "
            f"[`{FILES['album_settings']}`]({FILES['album_settings']}), copy it beside the checkpoint. "
            f"All values: [`{FILES['album_json']}`]({FILES['album_json']}).", ""]


SECTIONS: list[Section] = [figures_section, classifier_section, probe_section, judge_section, identity_section,
                           album_section]


# ---- the whole evaluation ------------------------------------------------------------------------------------
def prepare(settings: EvaluationConfig) -> EvalRun:
    """Load the model, its baselines and test images, and encode the test images once."""
    device = pick_device(settings.device)
    out = Path(settings.out) if settings.out else default_out(settings.checkpoint)
    folder = resolve_checkpoint(settings.checkpoint)
    model, config = load_model(folder, device)
    baselines: list[tuple[str, GroupedVAE]] = []
    for name in settings.baseline:
        b_model, b_config = load_model(name, device)
        check_compatible(config, b_config, name)
        baselines.append((baseline_label(b_config, [label for label, _ in baselines]), b_model))
    test = load_test_images(folder, config.data, settings.data_dir, settings.all_groups)
    log.info("%d test images in %d groups", len(test), test.group_count)
    encoding = latent.encode(model, test.images, ENCODE_BATCH)
    run = EvalRun(settings, model, config, folder, test, encoding, out, baselines)
    if not (settings.album_only or settings.identity_only):
        check_enough_images(test.groups, classifier_protocol(run).max_k)  # before minutes of work, not after
    return run


def report_context(run: EvalRun, seconds: float) -> ReportContext:
    """The report's facts about the run."""
    notes = [] if run.baselines else ["no baseline checkpoint given (`--baseline`): the probe tables have no VAE line"]
    if run.settings.quick:
        notes.append("`--quick` smoke run: small K, few trials, epochs and images; not a measurement")
    return ReportContext(
        checkpoint=str(run.settings.checkpoint), model_description=describe_model(run.config),
        test_description=describe_test_set(run.config, run.test, run.settings), baselines=run.baseline_labels,
        figure_mode=run.settings.figure_mode, pool_images=run.settings.pool_images, seconds=seconds,
        notes=notes + run.notes,
    )


def evaluate(settings: EvaluationConfig, sections: Sequence[Section] = SECTIONS) -> Path:
    """Run every section of the evaluation and write ``report.md``; returns the output folder."""
    start = time.perf_counter()
    if settings.album_only:
        sections = [album_section]
    elif settings.identity_only:
        sections = [figures_section, identity_section]
    run = prepare(settings)
    run.out.mkdir(parents=True, exist_ok=True)
    parts = []
    for section in sections:
        log.info("%s", section.__doc__.split(":")[0].rstrip("."))
        if (lines := section(run)) is not None:
            parts.append(lines)
    text = render_report(report_context(run, time.perf_counter() - start), parts)
    atomic_write(run.out / FILES["report"], lambda tmp: tmp.write_text(text))
    return run.out


def mnist_root(config: RunConfig, settings: EvaluationConfig) -> Path | None:
    """The torchvision-layout folder the mnist loader reads (None: torchvision's download cache)."""
    given = data_dir_list(settings.data_dir) or config.data.data_dirs
    if given:
        return data_folder(given[0])
    return data_root() / "mnist" if data_root() else None


def describe_test_set(config: RunConfig, test: GroupedImages, settings: EvaluationConfig) -> str:
    """Where the test images came from, in one line; "the standard MNIST test set" only when its bytes are."""
    groups = test.group_count
    if config.data.dataset == "mnist":
        root = mnist_root(config, settings)
        where = f"`{root}`" if root else "torchvision's download"
        if hashlib.sha256(test.images.numpy().tobytes()).hexdigest() == MNIST_TEST_SHA256:
            return f"the standard MNIST test set ({len(test)} images from {where}, grouped by digit)"
        return (f"{len(test)} test images (the t10k files) of the torchvision-layout data set in {where}, grouped by "
                f"their {groups} labels; not the standard MNIST test set (its images differ)")
    source = ", ".join(str(data_folder(d)) for d in data_dir_list(settings.data_dir) or config.data.data_dirs)
    which = ("every group of the folder (--all-groups)" if settings.all_groups
             else "the test groups of the checkpoint's split")
    return f"{len(test)} images of {groups} groups from {source}: {which}, unseen in training"
