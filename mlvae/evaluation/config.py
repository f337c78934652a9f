"""What an evaluation does: ``EvaluationConfig``, whose fields are the flags of ``python -m mlvae.evaluate``."""
from __future__ import annotations

from dataclasses import dataclass, field

from mlvae.flags import flag

MNIST_K = 100  # supplement Fig. 2: K = 100 images per class for MNIST
TEST_DATA = "test data"
CLASSIFIER = "classifier (supplement §3)"
PROBE = "probe (b): linear and MLP probes on posterior means"
JUDGE = "swap judge (class-grouped data: test classes are training classes)"
IDENTITY = "identity judge (faces): a face recogniser says whose face a decoded image shows"
ALBUM = "album mode: unlabelled albums of unseen groups, grouped from the latent (mlvae.grouping)"
ALBUM_TRIALS = (100, 10)  # albums per kind of album: a full run, --quick
FIGURES = "figures"
RUN = "run"


@dataclass(frozen=True)
class Preset:
    """What the fields left unset (None) take: a full measurement (``FULL``) or a ``--quick`` smoke run (``QUICK``)."""

    K: int | None  # None: by dataset (MNIST_K for mnist; for folders the largest K <= 10 with 10 classes of 3K images)
    trials: int
    max_epochs: int  # the classifier's and the probes'
    patience: int
    probe_per_class: int
    judge_epochs: int
    judge_images: int | None  # the judge trains on at most this many training images (None: all of them)
    judge_trials: int
    identity_trials: int


FULL = Preset(K=None, trials=5, max_epochs=300, patience=20, probe_per_class=400, judge_epochs=3, judge_images=None,
              judge_trials=1000, identity_trials=400)
QUICK = Preset(K=3, trials=2, max_epochs=30, patience=5, probe_per_class=60, judge_epochs=1, judge_images=5000,
               judge_trials=200, identity_trials=40)


@dataclass
class EvaluationConfig:
    """One evaluation of a checkpoint; ``None`` fields take the defaults their help states (``quick``: smaller)."""

    checkpoint: str = field(metadata=flag(
        "a training run folder (uses its best/), a checkpoint folder, a shipped name or a Hub repo id",
        positional=True, metavar="RUN_OR_CHECKPOINT"))
    out: str | None = field(default=None, metadata=flag(
        "output folder", default_text="runs/eval/<checkpoint name>"))
    baseline: list[str] = field(default_factory=list, metadata=flag(
        "a baseline (e.g. the plain VAE, --model vae) whose whole latent, pooled like the content, is a line of "
        "the table; repeat for several", repeat=True, metavar="RUN_OR_CHECKPOINT"))
    data_dir: list[str] | None = field(default=None, metadata=flag(
        "where the test images are; repeat it for a checkpoint trained on several folders, in the same order",
        group=TEST_DATA, repeat=True, default_text="the checkpoint's data_dir; mnist: $MLVAE_DATA_DIR/mnist"))
    all_groups: bool = field(default=False, metadata=flag(
        "folder data: every group of --data-dir is a test group (e.g. another face collection); default: the "
        "test groups of the checkpoint's split.json", group=TEST_DATA))
    K: int | None = field(default=None, metadata=flag(
        "images per class pooled for the classifier's training features; tested at k = 1..K", group=CLASSIFIER,
        default_text=f"{MNIST_K} for mnist, as supplement Fig. 2; for folders the largest K <= 10 with 10 classes "
        "of 3K images"))
    trials: int | None = field(default=None, metadata=flag(
        "trials with different test images", group=CLASSIFIER,
        default_text=f"{FULL.trials}, as the paper; --quick: {QUICK.trials}"))
    feature_mode: str = field(default="sample", metadata=flag(
        "classifier features: a sample of the (pooled) posterior, as supplement eq. 4, or its mean",
        group=CLASSIFIER, choices=("sample", "mean")))
    max_epochs: int | None = field(default=None, metadata=flag(
        "classifier epochs at most", group=CLASSIFIER, default_text=f"{FULL.max_epochs}; --quick: {QUICK.max_epochs}"))
    patience: int | None = field(default=None, metadata=flag(
        "early-stopping patience in epochs", group=CLASSIFIER,
        default_text=f"{FULL.patience}; --quick: {QUICK.patience}"))
    probe_per_class: int | None = field(default=None, metadata=flag(
        "training images per class, and as many other test images per class to test on; smaller classes lower "
        "it", group=PROBE, default_text=f"{FULL.probe_per_class}, i.e. {10 * FULL.probe_per_class:,} + "
        f"{10 * FULL.probe_per_class:,} on MNIST; --quick: {QUICK.probe_per_class}"))
    probe_k: str = field(default="1,5,10", metadata=flag("pooling levels of the content probes", group=PROBE))
    judge_epochs: int | None = field(default=None, metadata=flag(
        "epochs of the judge CNN on the real training images", group=JUDGE,
        default_text=f"{FULL.judge_epochs}; --quick: {QUICK.judge_epochs} on {QUICK.judge_images:,} images"))
    judge_trials: int | None = field(default=None, metadata=flag(
        "swap trials", group=JUDGE, default_text=f"{FULL.judge_trials}; --quick: {QUICK.judge_trials}"))
    judge_k: int = field(default=5, metadata=flag("images pooled into each trial's content", group=JUDGE))
    no_judge: bool = field(default=False, metadata=flag("skip the swap judge", group=JUDGE))
    identity: bool = field(default=False, metadata=flag(
        "run the identity judge (dlib's face-recognition ResNet, never trained on this model) on recon, pooled, "
        "swap and generated faces of unseen test people, per source folder", group=IDENTITY))
    identity_people: int = field(default=20, metadata=flag(
        "test people judged among per source; chance is 1 / this", group=IDENTITY))
    identity_k: int = field(default=5, metadata=flag("photos pooled into each trial's content", group=IDENTITY))
    identity_trials: int | None = field(default=None, metadata=flag(
        "trials per source", group=IDENTITY, default_text=f"{FULL.identity_trials}; --quick: {QUICK.identity_trials}"))
    identity_fit_steps: int = field(default=0, metadata=flag(
        "also judge 5 photos of each judged person decoded from latents fitted to the photo by this many Adam steps "
        "(on log p(x|c,s) + log p(c) + log p(s), and on the likelihood alone): what the decoder can render at best, "
        "against what the encoder finds (300 steps take about 5 minutes per source on 2 CPU cores)", group=IDENTITY,
        default_text="0, off"))
    identity_linear_photos: int = field(default=3000, metadata=flag(
        "the linear reference of the decoder-range table: a PCA with as many components as the model's code, fitted "
        "to this many prepared photos of the checkpoint's training people (never a test person); 0: off",
        group=IDENTITY))
    identity_linear_sizes: str = field(default="", metadata=flag(
        "more linear references of other sizes, comma-separated (e.g. 128,256,512): the ladder that tells whether a "
        "code of that size could hold the person", group=IDENTITY, default_text="only the model's size"))
    identity_only: bool = field(default=False, metadata=flag(
        "only the identity judge (implies --identity) and the figures: no probes or class judge; how a rung of the "
        "faces code-size ladder is judged (add --identity-fit-steps 300 --decoded-only)", group=IDENTITY))
    album: bool = field(default=False, metadata=flag(
        "group random albums of unseen test groups without their labels (faces: 5 and 20 people with 4-10 photos "
        "each; digits: 10 digits x 20 images) from the content, raw pixels (PCA), each --baseline's latent and, for "
        "faces, dlib's recogniser; reports the adjusted Rand index, purity and how often the count is found; writes "
        "album.json, the grouping chosen on training groups, to copy beside the checkpoint for the demo",
        group=ALBUM))
    album_only: bool = field(default=False, metadata=flag(
        "only the album evaluation (implies --album): no figures, probes or judges", group=ALBUM))
    album_trials: int | None = field(default=None, metadata=flag(
        "test albums of each kind", group=ALBUM, default_text=f"{ALBUM_TRIALS[0]}; --quick: {ALBUM_TRIALS[1]}"))
    album_calibration: int = field(default=30, metadata=flag(
        "albums of TRAINING groups on which each row's evidence temperature (and the demo's grouping) is chosen",
        group=ALBUM))
    figure_mode: str = field(default="mean", metadata=flag(
        "figures decode posterior means or one sample per image (the paper's figures sample)", group=FIGURES,
        choices=("mean", "sample")))
    decoded_only: bool = field(default=False, metadata=flag(
        "show reconstructions where figures would show input images, so no input photo is published (use for "
        "licensed photos, e.g. faces in a model card)", group=FIGURES))
    pool_images: int = field(default=10, metadata=flag(
        "strategy 2: other test images of each input's group pooled into its content", group=FIGURES))
    quick: bool = field(default=False, metadata=flag(
        f"a fast smoke run (seconds): K = {QUICK.K}, {QUICK.trials} trials, {QUICK.max_epochs} classifier epochs, "
        "small probes, a quick judge, small figures; flags given explicitly still win", group=RUN))
    seed: int = field(default=0, metadata=flag("picks the images shown and seeds all sampling", group=RUN))
    device: str = field(default="cpu", metadata=flag("cpu, cuda, mps or auto", group=RUN))
    threads: int | None = field(default=None, metadata=flag(
        "CPU threads for torch", group=RUN, default_text="torch's choice"))

    def __post_init__(self) -> None:
        for name in ("K", "trials", "max_epochs", "patience", "judge_epochs", "judge_trials", "judge_k",
                     "identity_people", "identity_k", "identity_trials", "threads", "probe_per_class",
                     "album_trials", "album_calibration"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
        for name in ("pool_images", "identity_fit_steps", "identity_linear_photos"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{name.replace('_', '-')} must be 0 or more, got {getattr(self, name)}")
        if self.identity_only and self.album_only:
            raise ValueError("--identity-only and --album-only each run one part: give one of them")
        self.probe_ks  # noqa: B018 - checks --probe-k now, not minutes into the run
        self.linear_sizes  # noqa: B018 - likewise --identity-linear-sizes

    @property
    def preset(self) -> Preset:
        """The defaults of the unset fields: ``QUICK`` with ``--quick``, else ``FULL``."""
        return QUICK if self.quick else FULL

    def setting(self, name: str) -> int | None:
        """Field ``name`` as given, else the preset's value."""
        value = getattr(self, name)
        return getattr(self.preset, name) if value is None else value

    @property
    def linear_sizes(self) -> tuple[int, ...]:
        """The sizes of ``--identity-linear-sizes``."""
        try:
            sizes = tuple(int(d) for d in self.identity_linear_sizes.split(",") if d.strip())
        except ValueError as exc:
            raise ValueError(f"--identity-linear-sizes must be comma-separated integers, got "
                             f"{self.identity_linear_sizes!r}") from exc
        if any(d < 1 for d in sizes):
            raise ValueError("--identity-linear-sizes values must be at least 1")
        return sizes

    @property
    def probe_ks(self) -> tuple[int, ...]:
        """The pooling levels of ``probe_k``, sorted and distinct."""
        try:
            ks = tuple(sorted({int(k) for k in self.probe_k.split(",")}))
        except ValueError as exc:
            raise ValueError(f"--probe-k must be comma-separated integers, got {self.probe_k!r}") from exc
        if not ks or min(ks) < 1:
            raise ValueError("--probe-k values must be at least 1")
        return ks
