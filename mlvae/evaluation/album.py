"""Album mode, measured: random albums of unseen people (or test digits) grouped without labels.

Each album draws ``people`` test groups and ``fewest``..``most`` images of each, shuffled. Every row groups the
same albums from one representation of the images, with both groupings of ``mlvae.grouping`` (the evidence of the
product of Normals, and Ward's clustering of the means with the silhouette's count): the ML-VAE content
posteriors; PCA of the raw pixels; a baseline's whole latent (``--baseline``); for faces, dlib's recogniser
descriptors (evaluation only). Representations without variances (pixels, descriptors) enter the evidence as unit
variances. The evidence's temperature of each row is chosen on albums of TRAINING groups (never test ones), and
so is the method the demo uses (``AlbumSettings``).
"""
from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import torch

from mlvae import latent
from mlvae.data.grouped import GroupedImages
from mlvae.data.images import to_float
from mlvae.evaluation.identity import embed_faces
from mlvae.evaluation.linear_code import fit_linear_code
from mlvae.grouping import METHODS, AlbumSettings, adjusted_rand_index, group_album, purity
from mlvae.model.interface import GroupedVAE
from mlvae.model.posterior import DiagonalNormal

log = logging.getLogger("mlvae.evaluate")

# the temperatures tried on albums of training groups
TEMPERATURES = tuple(m * 10.0**e for e in range(-2, 4) for m in (1, 2, 5))  # 0.01, 0.02, 0.05, ..., 5000
PCA_COMPONENTS = 50
PCA_IMAGES = 5000  # training images the PCA is fitted on
ENCODE_BATCH = 256
DESCRIPTOR_DIM = 128

Features = Callable[[torch.Tensor], DiagonalNormal]  # uint8 images (n, C, H, W) -> one (n, d) Normal per image


@dataclass(frozen=True)
class AlbumSpec:
    """Albums of ``people`` groups with ``fewest``..``most`` images each."""

    people: int
    fewest: int
    most: int

    @property
    def label(self) -> str:
        each = f"{self.fewest}" if self.fewest == self.most else f"{self.fewest}-{self.most}"
        return f"{self.people} groups x {each} images"


DIGIT_ALBUMS = (AlbumSpec(10, 20, 20),)
FACE_ALBUMS = (AlbumSpec(5, 4, 10), AlbumSpec(20, 4, 10))


def draw_albums(groups: torch.Tensor, spec: AlbumSpec, count: int, seed: int) -> list[torch.Tensor]:
    """``count`` albums of indices into ``groups`` (N,): each ``spec.people`` groups with at least ``spec.fewest``
    images, ``fewest``..``most`` of each (fewer when a group has fewer), shuffled."""
    gen = torch.Generator().manual_seed(seed)
    names, sizes = torch.unique(groups, return_counts=True)
    eligible = names[sizes >= spec.fewest]
    if eligible.numel() < spec.people:
        raise ValueError(f"albums of {spec.people} groups need {spec.people} groups with {spec.fewest}+ images; "
                         f"there are {eligible.numel()}")
    members = {int(g): (groups == g).nonzero().flatten() for g in eligible}
    albums = []
    for _ in range(count):
        chosen = eligible[torch.randperm(eligible.numel(), generator=gen)[: spec.people]]
        parts = []
        for g in chosen.tolist():
            own = members[g]
            take = int(torch.randint(spec.fewest, spec.most + 1, (1,), generator=gen))
            parts.append(own[torch.randperm(own.numel(), generator=gen)[:take]])
        album = torch.cat(parts)
        albums.append(album[torch.randperm(album.numel(), generator=gen)])
    return albums


def album_scores(features: DiagonalNormal, truth: torch.Tensor, albums: Sequence[torch.Tensor], method: str,
                 temperature: float = 1.0) -> dict[str, float]:
    """Mean adjusted Rand index, purity, share of albums whose count was found exactly and mean count found, of
    grouping each album (indices into ``features`` (N, d) and ``truth`` (N,)) with ``method``."""
    ari, pure, exact, found = [], [], [], []
    for album in albums:
        labels = truth[album].tolist()
        grouping = group_album(features.index(album), method, temperature=temperature)
        ari.append(adjusted_rand_index(labels, grouping.labels))
        pure.append(purity(labels, grouping.labels))
        exact.append(float(grouping.count == len(set(labels))))
        found.append(float(grouping.count))
    return {"ari": statistics.mean(ari), "purity": statistics.mean(pure), "exact_count": statistics.mean(exact),
            "groups_found": statistics.mean(found)}


def calibrate(features: DiagonalNormal, truth: torch.Tensor, albums: Sequence[torch.Tensor],
              grid: Sequence[float] = TEMPERATURES) -> tuple[float, dict[str, float]]:
    """The temperature of the grid whose evidence grouping has the best mean ARI on ``albums`` (of training groups),
    and every temperature's ARI."""
    tried = {t: album_scores(features, truth, albums, "evidence", t)["ari"] for t in grid}
    return max(tried, key=tried.get), {str(t): ari for t, ari in tried.items()}


def features_on(images: torch.Tensor, indices: torch.Tensor, features: Features) -> tuple[DiagonalNormal, torch.Tensor]:
    """The features of only the images ``indices`` selects, and a map from every index to its row in them."""
    needed = torch.unique(indices)
    where = torch.full((images.shape[0],), -1, dtype=torch.long)
    where[needed] = torch.arange(needed.numel())
    return features(images[needed]), where


def model_features(model: GroupedVAE, whole: bool) -> Features:
    """A model's content posteriors (``whole``: its whole latent, as the baselines are pooled)."""
    def features(images: torch.Tensor) -> DiagonalNormal:
        encoding = latent.encode(model, images, ENCODE_BATCH)
        return latent.joint(encoding) if whole else encoding.content
    return features


def pca_features(train_images: torch.Tensor, seed: int) -> Features:
    """Raw pixels projected on the top ``PCA_COMPONENTS`` principal axes of (up to ``PCA_IMAGES``) training images,
    scaled to unit variance overall, as means with unit variances."""
    pick = torch.randperm(train_images.shape[0], generator=torch.Generator().manual_seed(seed))[:PCA_IMAGES]
    code = fit_linear_code(train_images[pick], PCA_COMPONENTS, seed)

    def project(images: torch.Tensor) -> torch.Tensor:
        return (to_float(images).flatten(1) - code.mean) @ code.basis

    scale = project(train_images[pick]).std()

    def features(images: torch.Tensor) -> DiagonalNormal:
        scores = project(images) / scale
        return DiagonalNormal(scores, torch.zeros_like(scores))
    return features


def descriptor_features(images: torch.Tensor) -> DiagonalNormal:
    """dlib's 128-d face descriptors (of norm about 1) times sqrt(128), so that a dimension spreads about as a unit
    Normal, as means with unit variances (evaluation only: the judge's network)."""
    descriptors = torch.from_numpy(embed_faces(images)) * DESCRIPTOR_DIM**0.5
    return DiagonalNormal(descriptors, torch.zeros_like(descriptors))


@dataclass
class AlbumRow:
    """One representation's line: its name, its features and whether it is the evaluated model's content."""

    name: str
    features: Features
    is_content: bool = False


def measure_rows(rows: Sequence[AlbumRow], train: GroupedImages, test: GroupedImages, specs: Sequence[AlbumSpec],
                 albums: int, calibration_albums: int, seed: int) -> dict:
    """Every row on ``albums`` test albums of each spec, with each method; temperatures (and the content's method)
    chosen on ``calibration_albums`` albums of training groups of the first spec."""
    calibration = draw_albums(train.groups, specs[0], calibration_albums, seed + 1)
    test_albums = {spec.label: draw_albums(test.groups, spec, albums, seed) for spec in specs}
    test_indices = torch.cat([a for drawn in test_albums.values() for a in drawn])
    results: dict = {"specs": [asdict(s) | {"label": s.label} for s in specs], "albums": albums,
                     "calibration_albums": calibration_albums, "rows": []}
    for row in rows:
        log.info("album grouping: %s", row.name)
        own, where = features_on(train.images, torch.cat(calibration), row.features)
        temperature, tried = calibrate(own, train.groups[torch.unique(torch.cat(calibration))],
                                       [where[a] for a in calibration])
        line = {"name": row.name, "temperature": temperature, "calibration_ari": tried, "methods": {}}
        if row.is_content:
            means = album_scores(own, train.groups[torch.unique(torch.cat(calibration))],
                                 [where[a] for a in calibration], "means")["ari"]
            best = "evidence" if tried[str(temperature)] >= means else "means"
            line["settings"] = asdict(AlbumSettings(best, temperature, calibration_albums, specs[0].label))
        feats, where = features_on(test.images, test_indices, row.features)
        truth = test.groups[torch.unique(test_indices)]
        for method in METHODS:
            line["methods"][method] = {label: album_scores(feats, truth, [where[a] for a in drawn], method, temperature)
                                       for label, drawn in test_albums.items()}
        results["rows"].append(line)
    return results


def album_markdown(results: dict) -> str:
    """The table: one line per representation and method, ARI / purity / exact count (%) per album spec."""
    labels = [s["label"] for s in results["specs"]]
    head = "| representation | grouping | " + " | ".join(f"{label}: ARI / purity / count exact" for label in labels)
    lines = [head + " |", "| --- | --- |" + " --- |" * len(labels)]
    names = {"evidence": "evidence (product of Normals)", "means": "Ward on means, silhouette count"}
    for line in results["rows"]:
        for method in METHODS:
            cells = []
            for label in labels:
                s = line["methods"][method][label]
                cells.append(f"{s['ari']:.2f} / {s['purity']:.2f} / {100 * s['exact_count']:.0f}%")
            which = names[method] + (f", t = {line['temperature']:g}" if method == "evidence" else "")
            lines.append(f"| {line['name']} | {which} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
