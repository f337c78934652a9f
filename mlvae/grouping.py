"""Album grouping: which images share one content, found from their content posteriors alone.

The model's own question. Each image i gives content evidence N(mu_i, diag v_i); a set S of images that share
one content C ~ N(0, I) has the marginal likelihood Z(S) = ∫ N(c; 0, I) prod_{i in S} N(c; mu_i, v_i) dc, the
normaliser of the product of Normals (paper eq. 7). Whether two sets A and B share one content is the log
Bayes factor  log Z(A ∪ B) - log Z(A) - log Z(B),  which depends on each set only through its summed precision
L = sum 1/v_i and precision-weighted mean H = sum mu_i / v_i:

    gain(A, B) = f(L_A + L_B, H_A + H_B) - f(L_A, H_A) - f(L_B, H_B),
    f(L, H) = sum_d [ -log(1 + L) + H^2 / (1 + L) ] / 2.

``evidence_grouping`` merges greedily, the pair with the largest gain first, and stops where no merge pays
(gain <= 0), so the number of groups is found, not given; asked for ``count`` groups it cuts the same merge
history there. ``mean_grouping`` is the usual reference: Ward's agglomerative clustering of the posterior
means with the count chosen by the silhouette. ``temperature`` scales every variance (v_i -> t v_i): t > 1 makes
the evidence of an image weaker, so groups merge more readily; it is chosen on training people, never test ones.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch

from mlvae.latent import decode
from mlvae.model.interface import GroupedVAE
from mlvae.model.posterior import DiagonalNormal, product_of_normals

METHODS = ("evidence", "means")
SETTINGS_NAME = "album.json"  # beside a checkpoint: the grouping its evaluation chose on training groups


@dataclass(frozen=True)
class AlbumSettings:
    """How a checkpoint's albums are grouped: ``method`` and the evidence's ``temperature``, as chosen by
    ``python -m mlvae.evaluate --album`` on ``calibration_albums`` albums (``albums``) of training groups."""

    method: str = "evidence"
    temperature: float = 1.0
    calibration_albums: int = 0
    albums: str = ""

    def __post_init__(self) -> None:
        if self.method not in METHODS or not self.temperature > 0:
            raise ValueError(f"album settings need a method in {METHODS} and a positive temperature, got "
                             f"{self.method!r} and {self.temperature!r}")

    @classmethod
    def read(cls, folder: str | Path) -> AlbumSettings:
        """The settings saved beside a checkpoint (``album.json``), or the defaults when there are none."""
        path = Path(folder) / SETTINGS_NAME
        if not path.is_file():
            return cls()
        record = json.loads(path.read_text())
        return cls(**{f.name: record[f.name] for f in fields(cls) if f.name in record})

    def write(self, folder: str | Path) -> Path:
        """Save as ``album.json`` in ``folder``."""
        path = Path(folder) / SETTINGS_NAME
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path


@dataclass(frozen=True)
class Grouping:
    """An album's grouping: ``labels`` (N,) in 0..count-1, numbered in order of first appearance;
    ``confidence`` (N,) in [0, 1], how sure the grouping is that each image belongs to its group;
    ``found`` the number of groups the method found by itself (``count`` differs when a count was asked for)."""

    labels: list[int]
    confidence: list[float]
    count: int
    found: int
    method: str

    def members(self) -> list[list[int]]:
        """The image indices of each group, in group order."""
        groups: list[list[int]] = [[] for _ in range(self.count)]
        for index, label in enumerate(self.labels):
            groups[label].append(index)
        return groups


def _precision_stats(evidence: DiagonalNormal, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """Each image's precision 1/(t v) and precision-weighted mean mu/(t v): (N, d) each, float64."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    logvar = evidence.logvar.detach().cpu().double().numpy()
    precision = np.exp(-logvar) / temperature
    return precision, precision * evidence.mean.detach().cpu().double().numpy()


def _f(precision: np.ndarray, weighted: np.ndarray) -> np.ndarray:
    """f(L, H) = sum_d [-log(1 + L) + H^2 / (1 + L)] / 2 over the last axis: (...)."""
    return 0.5 * (np.square(weighted) / (1.0 + precision) - np.log1p(precision)).sum(-1)


def merge_gain(a: DiagonalNormal, b: DiagonalNormal, temperature: float = 1.0) -> float:
    """log Z(A ∪ B) - log Z(A) - log Z(B) for two sets of content evidence (n_a, d) and (n_b, d): the log Bayes
    factor of "A and B share one content" against "each set has its own"."""
    la, ha = (x.sum(0) for x in _precision_stats(a, temperature))
    lb, hb = (x.sum(0) for x in _precision_stats(b, temperature))
    return float(_f(la + lb, ha + hb) - _f(la, ha) - _f(lb, hb))


def _merge_history(precision: np.ndarray, weighted: np.ndarray) -> list[tuple[int, int, float]]:
    """Greedy agglomeration to one group: the merges (kept, absorbed, gain) in order, largest gain first."""
    n = precision.shape[0]
    L, H = precision.copy(), weighted.copy()
    own = _f(L, H)  # (n,)
    gain = _f(L[:, None] + L[None], H[:, None] + H[None]) - own[:, None] - own[None]  # (n, n)
    np.fill_diagonal(gain, -np.inf)
    alive = np.ones(n, dtype=bool)
    merges = []
    for _ in range(n - 1):
        a, b = divmod(int(np.argmax(gain)), n)
        a, b = min(a, b), max(a, b)
        merges.append((a, b, float(gain[a, b])))
        L[a] += L[b]
        H[a] += H[b]
        own[a] = _f(L[a], H[a])
        alive[b] = False
        row = np.where(alive, _f(L[a] + L, H[a] + H) - own[a] - own, -np.inf)
        row[a] = -np.inf
        gain[a], gain[:, a] = row, row
        gain[b], gain[:, b] = -np.inf, -np.inf
    return merges


def _cut(n: int, merges: list[tuple[int, int, float]], count: int) -> list[int]:
    """Labels (N,) after the first n - count merges, numbered in order of first appearance."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b, _ in merges[: n - count]:
        parent[root(b)] = root(a)
    return renumber([root(i) for i in range(n)])


def renumber(labels: list[int]) -> list[int]:
    """Labels renamed 0, 1, ... in order of first appearance."""
    names: dict[int, int] = {}
    return [names.setdefault(label, len(names)) for label in labels]


def found_count(n: int, merges: list[tuple[int, int, float]]) -> int:
    """Groups left where the greedy merging stops paying (the first merge whose gain is <= 0)."""
    paying = next((step for step, (_, _, gain) in enumerate(merges) if gain <= 0), len(merges))
    return n - paying


def _group_sums(values: np.ndarray, ids: np.ndarray, count: int) -> np.ndarray:
    """Per-group sums of the rows of ``values`` (N, d): (count, d)."""
    sums = np.zeros((count, values.shape[1]))
    np.add.at(sums, ids, values)
    return sums


def membership(evidence: DiagonalNormal, labels: list[int], temperature: float = 1.0) -> torch.Tensor:
    """How sure the evidence is that each image belongs to its group: (N,) in [0, 1].

    Image i, with the rest of the album grouped as given, joins group g (its own included, less itself) with
    log odds gain({i}, g \\ {i}), or starts a group of its own (log odds 0); the confidence is the softmax
    probability of its own group among these choices (equal prior odds)."""
    precision, weighted = _precision_stats(evidence, temperature)
    ids = np.asarray(labels)
    count = int(ids.max()) + 1
    L, H = _group_sums(precision, ids, count), _group_sums(weighted, ids, count)
    mine = np.eye(count)[ids]  # (N, K)
    rest_L = L[None] - mine[..., None] * precision[:, None]  # (N, K, d): each group less image i
    rest_H = H[None] - mine[..., None] * weighted[:, None]
    gain = (_f(rest_L + precision[:, None], rest_H + weighted[:, None]) - _f(rest_L, rest_H)
            - _f(precision, weighted)[:, None])  # (N, K)
    alone = np.bincount(ids, minlength=count)[ids] > 1  # a singleton's own group already is "alone"
    options = np.concatenate([gain, np.where(alone, 0.0, -np.inf)[:, None]], 1)
    options -= options.max(1, keepdims=True)
    probability = np.exp(options) / np.exp(options).sum(1, keepdims=True)
    return torch.from_numpy(probability[np.arange(ids.shape[0]), ids]).float()


def refine(precision: np.ndarray, weighted: np.ndarray, labels: list[int], fixed_count: bool,
           sweeps: int = 10) -> list[int]:
    """Local moves after the greedy merging: each image in turn moves to the group (or, unless ``fixed_count``, a
    new group of its own) that raises the album's log evidence sum_g f(L_g, H_g) most, until no image moves.
    With ``fixed_count`` no group is emptied or started, so the count stays."""
    ids = np.asarray(labels).copy()
    count = int(ids.max()) + 1
    L, H = _group_sums(precision, ids, count + 1), _group_sums(weighted, ids, count + 1)  # last row: empty
    size = np.bincount(ids, minlength=count + 1)
    for _ in range(sweeps):
        moved = False
        for i in range(precision.shape[0]):
            g = ids[i]
            if fixed_count and size[g] == 1:
                continue
            L[g] -= precision[i]
            H[g] -= weighted[i]
            size[g] -= 1
            gain = _f(L + precision[i], H + weighted[i]) - _f(L, H)  # joining each group; the empty row: alone
            if fixed_count:
                gain[size == 0] = -np.inf
            best = int(np.argmax(gain))
            if gain[best] <= gain[g] + 1e-9:
                best = g
            L[best] += precision[i]
            H[best] += weighted[i]
            size[best] += 1
            if best != g:
                moved = True
                ids[i] = best
                if size[-1] > 0 or size[g] == 0:  # keep exactly one empty row, the last
                    keep = size > 0
                    ids = np.cumsum(keep)[ids] - 1
                    L = np.concatenate([L[keep], np.zeros((1, L.shape[1]))])
                    H = np.concatenate([H[keep], np.zeros((1, H.shape[1]))])
                    size = np.append(size[keep], 0)
        if not moved:
            break
    return renumber(ids.tolist())


def evidence_grouping(evidence: DiagonalNormal, count: int | None = None, temperature: float = 1.0,
                      sweeps: int = 10) -> Grouping:
    """Group content evidence (N, d) by greedy merging on the product of Normals' evidence, then local moves
    (``refine``, ``sweeps`` at most); the number of groups is where merging stops paying, or ``count`` when given
    (1..N). ``found`` is the count the evidence itself settles on."""
    n = _check(evidence, count)
    precision, weighted = _precision_stats(evidence, temperature)
    merges = _merge_history(precision, weighted)
    labels = _cut(n, merges, found_count(n, merges))
    if sweeps:
        labels = refine(precision, weighted, labels, fixed_count=False, sweeps=sweeps)
    found = max(labels) + 1
    if count is not None and count != found:
        labels = _cut(n, merges, count)
        if sweeps:
            labels = refine(precision, weighted, labels, fixed_count=True, sweeps=sweeps)
    return Grouping(labels, membership(evidence, labels, temperature).tolist(), max(labels) + 1, found, "evidence")


def _check(evidence: DiagonalNormal, count: int | None) -> int:
    n = evidence.mean.shape[0]
    if n == 0:
        raise ValueError("nothing to group: give at least one image")
    if count is not None and not 1 <= count <= n:
        raise ValueError(f"cannot make {count} groups of {n} images: ask for 1 to {n}")
    return n


def ward_history(points: np.ndarray) -> list[tuple[int, int, float]]:
    """Ward's agglomerative clustering of ``points`` (N, d): the merges (kept, absorbed, increase in the within-group
    sum of squares) in order (Lance-Williams updates, O(N) per merge)."""
    n = points.shape[0]
    dist = _distances(points) ** 2 / 2  # Ward's cost of merging two singletons
    np.fill_diagonal(dist, np.inf)
    size = np.ones(n)
    alive = np.ones(n, dtype=bool)
    merges = []
    for _ in range(n - 1):
        a, b = divmod(int(np.argmin(dist)), n)
        a, b = min(a, b), max(a, b)
        d_ab = float(dist[a, b])
        merges.append((a, b, d_ab))
        total = size[a] + size[b] + size
        row = ((size[a] + size) * dist[a] + (size[b] + size) * dist[b] - size * d_ab) / total
        size[a] += size[b]
        alive[b] = False
        row = np.where(alive, row, np.inf)
        row[a] = np.inf
        dist[a], dist[:, a] = row, row
        dist[b], dist[:, b] = np.inf, np.inf
    return merges


def _distances(points: np.ndarray) -> np.ndarray:
    """Euclidean distances (N, N) between the rows of ``points``."""
    square = (points**2).sum(1)
    return np.sqrt(np.maximum(square[:, None] + square[None] - 2 * points @ points.T, 0.0))


def silhouette(dist: np.ndarray, labels: list[int]) -> np.ndarray:
    """Each point's silhouette (b - a) / max(a, b) under ``labels``, from distances (N, N): (N,); 0 for a point
    alone in its group."""
    ids = np.asarray(labels)
    count = int(ids.max()) + 1
    sums = _group_sums(dist.T, ids, count).T  # (N, K): summed distance from each point to each group
    sizes = np.bincount(ids, minlength=count).astype(float)
    own = sizes[ids]
    rows = np.arange(ids.shape[0])
    a = sums[rows, ids] / np.maximum(own - 1, 1)
    others = sums / sizes
    others[rows, ids] = np.inf
    b = others.min(1) if count > 1 else np.zeros_like(a)
    s = (b - a) / np.maximum(np.maximum(a, b), 1e-12)
    return np.where(own > 1, s, 0.0)


def mean_grouping(evidence: DiagonalNormal, count: int | None = None, max_count: int | None = None) -> Grouping:
    """The reference: Ward's clustering of the posterior means (N, d), the count chosen by the mean silhouette over
    2..``max_count`` (default N // 2; one image or two give one group) or ``count`` when given. The confidence is
    each image's silhouette clipped to [0, 1]."""
    n = _check(evidence, count)
    points = evidence.mean.detach().cpu().double().numpy()
    merges = ward_history(points)
    dist = _distances(points)
    candidates = range(2, min(max_count or max(n // 2, 2), n - 1) + 1)
    scores = {k: float(silhouette(dist, _cut(n, merges, k)).mean()) for k in candidates}
    found = max(scores, key=scores.get) if scores else 1
    labels = _cut(n, merges, count or found)
    confidence = np.clip(silhouette(dist, labels), 0, 1) if max(labels) > 0 else np.ones(n)
    return Grouping(labels, confidence.tolist(), max(labels) + 1, found, "means")


def group_album(evidence: DiagonalNormal, method: str = "evidence", count: int | None = None,
                temperature: float = 1.0) -> Grouping:
    """Group content evidence (N, d) with ``method`` ("evidence" or "means"); ``count`` groups when given."""
    if method == "evidence":
        return evidence_grouping(evidence, count, temperature)
    if method == "means":
        return mean_grouping(evidence, count)
    raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")


def pooled_groups(evidence: DiagonalNormal, labels: list[int]) -> DiagonalNormal:
    """Each group's pooled content posterior (paper eq. 7), groups 0..K-1 of ``labels`` (N,): (K, d)."""
    ids = torch.as_tensor(labels, dtype=torch.long, device=evidence.mean.device)
    return product_of_normals(evidence, ids, int(ids.max()) + 1)


@torch.no_grad()
def decode_identities(model: GroupedVAE, evidence: DiagonalNormal, labels: list[int]) -> torch.Tensor:
    """Each group's pooled identity as an image: its pooled content mean with the style prior's mean (zeros), in
    one decoder pass: (K, C, H, W) in [0, 1]."""
    content = pooled_groups(evidence, labels).mean
    return decode(model, content, torch.zeros(content.shape[0], model.style_dim, device=content.device))


def adjusted_rand_index(truth: list[int], found: list[int]) -> float:
    """The adjusted Rand index of two labellings of the same items (1: the same partition; ~0: chance)."""
    a = torch.as_tensor(renumber(list(truth)))
    b = torch.as_tensor(renumber(list(found)))
    table = torch.zeros(int(a.max()) + 1, int(b.max()) + 1, dtype=torch.float64).index_put_(
        (a, b), torch.ones(a.shape[0], dtype=torch.float64), accumulate=True)

    def pairs(x: torch.Tensor) -> torch.Tensor:
        return (x * (x - 1) / 2).sum()

    index, rows, cols = pairs(table), pairs(table.sum(1)), pairs(table.sum(0))
    total = a.shape[0] * (a.shape[0] - 1) / 2
    expected = rows * cols / total if total else torch.tensor(0.0)
    top = (rows + cols) / 2
    if float(top - expected) == 0:  # both partitions all-singletons or all-one: identical iff their pairs agree
        return 1.0 if float(rows) == float(cols) else 0.0
    return float((index - expected) / (top - expected))


def purity(truth: list[int], found: list[int]) -> float:
    """The share of items whose group's most common true label is their own."""
    a = torch.as_tensor(renumber(list(truth)))
    b = torch.as_tensor(renumber(list(found)))
    table = torch.zeros(int(b.max()) + 1, int(a.max()) + 1).index_put_((b, a), torch.ones(a.shape[0]), accumulate=True)
    return float(table.max(1).values.sum() / a.shape[0])
