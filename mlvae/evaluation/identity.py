"""The identity judge: a face recognizer that never saw the model says whose face an image shows.

dlib's face-recognition ResNet (weights of the ``face-recognition-models`` package) maps an aligned face chip
of 150 x 150 pixels to a 128-d descriptor. Model images are aligned to the same framing (``mlvae.data.faces``), so
a 64 x 64 image upscaled to 150 x 150 is a valid chip. A person's reference is the mean descriptor of their
real photos; an image is judged as the person whose reference is nearest.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from PIL import Image

from mlvae.data.faces import models_folder
from mlvae.data.grouped import GroupedImages
from mlvae.data.images import to_float
from mlvae.errors import DataError
from mlvae.evaluation.goals import DEFAULT_GOALS, IdentityGoals
from mlvae.evaluation.latent_fit import fit_latents
from mlvae.evaluation.linear_code import LinearCode
from mlvae.evaluation.swap_trials import FIGURES, TrialResult, choose_groups, run_trials
from mlvae.latent import decode
from mlvae.model.interface import GroupedVAE

CHIP_SIZE = 150  # the recogniser's input size


@cache
def _recogniser():
    try:
        import dlib
    except ImportError as exc:
        raise DataError("the identity judge needs dlib: pip install dlib-bin face-recognition-models") from exc
    return dlib.face_recognition_model_v1(str(models_folder() / "dlib_face_recognition_resnet_model_v1.dat"))


def _chips(images: torch.Tensor) -> list[np.ndarray]:
    """(N, 3, H, W) uint8 or float in [0, 1] -> N uint8 RGB arrays of 150 x 150."""
    if images.dtype != torch.uint8:
        images = (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8)
    arrays = images.cpu().permute(0, 2, 3, 1).numpy()
    return [
        np.asarray(Image.fromarray(a).resize((CHIP_SIZE, CHIP_SIZE), Image.Resampling.BICUBIC), dtype=np.uint8)
        for a in arrays
    ]


def embed_faces(images: torch.Tensor, batch_size: int = 64) -> np.ndarray:
    """128-d face descriptors of aligned face images (N, 3, H, W): (N, 128) float32."""
    if images.shape[0] == 0:
        return np.zeros((0, 128), dtype=np.float32)
    if images.shape[1] != 3:
        raise DataError("the identity judge needs colour (3-channel) face images")
    net = _recogniser()
    out = []
    for i in range(0, images.shape[0], batch_size):
        descriptors = net.compute_face_descriptor(_chips(images[i : i + batch_size]))
        out.extend(np.asarray(d, dtype=np.float32) for d in descriptors)
    return np.stack(out)


def references(descriptors: np.ndarray, people: np.ndarray, count: int) -> np.ndarray:
    """Mean descriptor of each person 0..count-1 from their real photos' descriptors (N, 128): (count, 128)."""
    refs = np.zeros((count, descriptors.shape[1]), dtype=np.float64)
    np.add.at(refs, people, descriptors)
    sizes = np.bincount(people, minlength=count)
    if (sizes == 0).any():
        raise ValueError("every person needs at least one real photo for a reference")
    return (refs / sizes[:, None]).astype(np.float32)


def distances(descriptors: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """Euclidean distances (N, P) from each descriptor to each reference."""
    return np.linalg.norm(descriptors[:, None, :] - refs[None, :, :], axis=-1)


def nearest_person(descriptors: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """Index (N,) of the nearest reference of each descriptor."""
    return distances(descriptors, refs).argmin(axis=1)


def source_of(group_name: str) -> str:
    """The data folder a group came from: ``faces-lfw/Aaron_Sorkin`` -> ``faces-lfw`` (one folder: ``test``)."""
    return group_name.split("/", 1)[0] if "/" in group_name else "test"


@dataclass
class JudgedPeople:
    """One source folder's judged people: their photos (N, C, H, W) uint8, person (N,) in 0..P-1 and the
    references (P, 128) made of those photos."""

    images: torch.Tensor
    person: np.ndarray
    refs: np.ndarray


def judged_people(test: GroupedImages, people: int, min_photos: int, seed: int = 0) -> dict[str, JudgedPeople]:
    """Per source folder of ``test``, ``people`` test people with at least ``min_photos`` photos (sources with
    fewer than 2 such people are left out); references are the mean descriptors of all their real photos."""
    labels = test.groups.numpy()
    sources = np.array([source_of(test.group_names[g]) for g in labels])
    judged = {}
    for source in sorted(set(sources)):
        chosen = choose_groups(labels[sources == source], people, min_photos, seed)
        if len(chosen) < 2:
            continue
        keep = np.flatnonzero(np.isin(labels, chosen))
        person = np.searchsorted(chosen, labels[keep])
        images = test.images[torch.as_tensor(keep)]
        judged[source] = JudgedPeople(images, person, references(embed_faces(images), person, len(chosen)))
    return judged


def identity_trials(
    model: GroupedVAE, test: GroupedImages, people: int = 20, k: int = 5, trials: int = 400, seed: int = 0
) -> dict[str, TrialResult]:
    """The identity judge's trial figures (``mlvae.evaluation.swap_trials``) for each source folder of ``test``.

    Per source, ``people`` test people with at least k + 1 photos are drawn (``judged_people``)."""
    return {
        source: run_trials(model, j.images, j.person, lambda x, refs=j.refs: -distances(embed_faces(x), refs), k,
                           trials, seed)
        for source, j in judged_people(test, people, k + 1, seed).items()
    }


FIT_ROWS = ("fitted (MAP)", "fitted (likelihood)")


def linear_row(size: int) -> str:
    """The decoder-range table's name of a linear code's row."""
    return f"linear code (PCA, d = {size})"


@torch.no_grad()
def _judged_and_error(
    images: torch.Tensor, target: torch.Tensor, who: np.ndarray, refs: np.ndarray
) -> tuple[float, float]:
    hits = float(100.0 * (nearest_person(embed_faces(images), refs) == who).mean())
    return hits, float((images.float() - target).square().mean())


def decoder_range(
    model: GroupedVAE, test: GroupedImages, people: int = 20, min_photos: int = 6, per_person: int = 5,
    steps: int = 300, seed: int = 0, linear: Sequence[LinearCode] = (),
) -> dict[str, dict[str, tuple[float, float]]]:
    """Per source: (% judged as their own person, per-pixel MSE) of ``per_person`` photos of each judged person,
    for the inputs, the encoder's reconstructions (posterior means), each ``linear`` code's reconstructions (PCA
    of training photos, ``mlvae.evaluation.linear_code``) and, when ``steps`` > 0, decodes of latents fitted to
    each photo (``mlvae.evaluation.latent_fit``) under the MAP objective and the likelihood alone (the decoder's
    range)."""
    rng = np.random.default_rng(seed)
    device = next(model.parameters()).device
    out = {}
    for source, j in judged_people(test, people, min_photos, seed).items():
        picked = np.concatenate([rng.choice(np.flatnonzero(j.person == p), min(per_person, int((j.person == p).sum())),
                                            replace=False) for p in range(len(j.refs))])
        x = to_float(j.images[torch.as_tensor(picked)].to(device))
        who = j.person[picked]
        with torch.no_grad():
            enc = model.eval().encode(x)
            rows = {"input": x, "encoder": decode(model, enc.content.mean, enc.style.mean)}
            rows |= {linear_row(code.size): code.reconstruct(x.cpu()) for code in linear}
        for name, prior in zip(FIT_ROWS, (True, False), strict=True) if steps else ():
            c, s = fit_latents(model, x, enc.content.mean, enc.style.mean, steps, prior=prior)
            with torch.no_grad():
                rows[name] = decode(model, c, s)
        out[source] = {name: _judged_and_error(images.cpu(), x.cpu(), who, j.refs) for name, images in rows.items()}
    return out


def decoder_range_markdown(
    results: dict[str, dict[str, tuple[float, float]]], steps: int, per_person: int,
    goals: IdentityGoals = DEFAULT_GOALS, code_size: int | None = None,
) -> str:
    """``decoder_range``'s figures as a Markdown table: a row per source, judged-right % and MSE per kind."""
    kinds = list(next(iter(results.values()))) if results else []
    head = "| test people | " + " | ".join(f"{n}: judged right (%) / MSE" for n in kinds) + " |"
    lines = [head, "|" + " --- |" * (len(kinds) + 1)]
    for source, rows in results.items():
        lines.append(f"| {goals.name(source)} | "
                     + " | ".join(f"{rows[r][0]:.1f} / {rows[r][1]:.4f}" for r in kinds) + " |")
    notes = [f"{per_person} photos of each judged person"]
    if steps:
        notes.append(f"latents fitted by {steps} Adam steps (lr 0.05) from the encoder's posterior means")
    if any(k.startswith("linear code") for k in kinds):
        notes.append(f"a linear code is a PCA with d components fitted to prepared photos of training people only "
                     f"(the model's code: content + style = {code_size})")
    return "\n".join(lines) + "\n\n" + "; ".join(notes) + ".\n"


def identity_markdown(results: dict[str, TrialResult], goals: IdentityGoals = DEFAULT_GOALS) -> str:
    """The identity judge's figures as a Markdown table: a row per test source, then the goals."""
    figures = list(FIGURES)
    head = "| test people | judged among | " + " | ".join(f.replace("->", "→") for f in figures) + " |"
    lines = [head, "|" + " --- |" * (len(figures) + 2)]
    for source, r in results.items():
        cells = " | ".join(f"{r.figures[f]:.1f}" for f in figures)
        lines.append(f"| {goals.name(source)} | {r.groups} (chance {r.chance:.1f}%) | {cells} |")
    lines.append("| goal | | " + " | ".join(goals.text(f) for f in figures) + " |")
    k = next(iter(results.values())).k if results else 0
    trials = next(iter(results.values())).trials if results else 0
    return "\n".join(lines) + f"\n\n% of {trials} trials per row; content pooled from k = {k} photos.\n"


def missed_goals(results: dict[str, TrialResult], goals: IdentityGoals = DEFAULT_GOALS) -> list[str]:
    """One phrase per figure and source below its goal, e.g. ``swap→C 19% on CelebA (goal ≥ 30)``."""
    return [f"{figure.replace('->', '→')} {r.figures[figure]:.0f}% on {goals.name(source)} (goal {goal})"
            for source, r in results.items() for figure, goal in goals.figures.items()
            if not goal.met(r.figures[figure])]


def identity_json(results: dict[str, TrialResult]) -> dict:
    """Plain-JSON form of the identity figures."""
    return {s: {"groups": r.groups, "trials": r.trials, "k": r.k, **r.figures} for s, r in results.items()}


def identity_report(table: str, files: dict[str, str] | None = None) -> list[str]:
    """The report's section on the identity judge: what it measures, then ``identity_markdown``'s table."""
    return [
        "## Identity judge: a face recogniser reads the decoded faces",
        "",
        "dlib's face-recognition ResNet (never trained on this model) embeds each image; a person's reference is "
        "the mean embedding of their real test photos, and an image is judged as the person whose reference is "
        "nearest. Each trial draws two test people A != B, a photo x_a of A, k other photos of A and k photos of B "
        "(posterior means throughout): `input` is x_a itself (the ceiling); `recon` x_a's own style and content; "
        "`pooled` x_a's style with the content pooled from A's k other photos; `swap→C` x_a's style with B's "
        "pooled content, judged B, and `swap→S` the same image judged A (low is good); `pairwise` that image "
        "nearer B than A (chance 50%); `gen` B's pooled content with styles from the prior, judged B.",
        "",
        table,
        *([f"All values: [`{files['identity_json']}`]({files['identity_json']}).", ""] if files else []),
    ]
