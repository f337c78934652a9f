"""Album mode: an unlabelled album grouped by who (or which digit) each photo shows, from the content posteriors
(``mlvae.grouping``, with the grouping the checkpoint's evaluation chose on training people, ``album.json``), and
the user's corrections to that grouping.

A grouping travels between the page and the server as its labels text: one group number per photo given, in
gallery order ("1 1 2 - 3": "-" for a photo that could not be used). Every correction maps labels to labels.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import Image

from mlvae import DataError, latent
from mlvae.grouping import AlbumSettings, decode_identities, group_album, membership, renumber

from ..inputs.gallery_values import gallery_paths
from ..inputs.photos import Photos
from ..models import DemoModel
from ..results.album_sheet import album_sheet
from .computations import MAX_ALBUM, MAX_GROUP, require
from .endpoints import Endpoints

UNUSED = "-"
SWAP_PHOTOS = 8  # the Swap tab's most inputs
SWAP_PER_GROUP = 2


@dataclass
class AlbumView:
    """A grouping shown: the sheet (a row per group), the groups (API value), the labels text and a sentence."""

    sheet: Image.Image
    groups: list[dict[str, Any]]
    labels: str
    summary: str


def parse_labels(text: str | None, given: int) -> list[int | None] | None:
    """A labels text -> the group (0-based) of each photo given (None for "-"); None when the text is empty or does
    not fit ``given`` photos (the album is then grouped anew). DataError for a label that is not a number."""
    parts = (text or "").replace(",", " ").split()
    if not parts or len(parts) != given:
        return None
    labels: list[int | None] = []
    for part in parts:
        if part == UNUSED:
            labels.append(None)
        elif part.isdigit() and 1 <= int(part) <= MAX_ALBUM:
            labels.append(int(part) - 1)
        else:
            raise DataError(f"group label {part[:20]!r} is not a group number: give one number per photo, in "
                            f"order (e.g. 1 1 2), or {UNUSED} for a photo that is not used")
    return labels


def format_labels(labels: list[int | None]) -> str:
    """Group numbers (0-based; None: not used) -> the labels text, groups renumbered 1.. in order of appearance."""
    used = renumber([label for label in labels if label is not None])
    it = iter(used)
    return " ".join(UNUSED if label is None else str(next(it) + 1) for label in labels)


def used_labels(labels: list[int | None], photos: Photos) -> list[int]:
    """The groups (0-based, renumbered) of the photos that could be used, in their order."""
    return renumber([labels[i] if labels[i] is not None else -1 - i for i in photos.indices])


def all_labels(used: list[int], photos: Photos) -> list[int | None]:
    """Groups of the used photos -> one entry per photo given (None for a refused one)."""
    labels: list[int | None] = [None] * photos.given
    for position, label in zip(photos.indices, used, strict=True):
        labels[position] = label
    return labels


def grouped(m: DemoModel, photos: Photos, count: int | None = None) -> list[int]:
    """The model's grouping of the used photos (``count`` groups when given, capped to the photos)."""
    x = require(photos, 1, "Album mode", m.kind)
    settings = AlbumSettings.read(m.folder)
    content = latent.encode(m.model, x).content
    count = None if count is None else max(1, min(int(count), x.shape[0]))
    return group_album(content, settings.method, count, settings.temperature).labels


def view(m: DemoModel, photos: Photos, used: list[int]) -> AlbumView:
    """The sheet, the groups and the sentence of a grouping of the used photos."""
    x = require(photos, 1, "Album mode", m.kind)
    settings = AlbumSettings.read(m.folder)
    content = latent.encode(m.model, x).content
    used = renumber(used)
    confidence = membership(content, used, settings.temperature).tolist()
    identities = decode_identities(m.model, content, used)
    members = [[i for i, label in enumerate(used) if label == k] for k in range(max(used) + 1)]
    positions = [[photos.indices[i] + 1 for i in group] for group in members]
    sure = [[confidence[i] for i in group] for group in members]
    captions = [[f"#{p} {100 * c:.0f}%" for p, c in zip(ps, cs, strict=True)]
                for ps, cs in zip(positions, sure, strict=True)]
    sheet = album_sheet(identities, [photos.images[group] for group in members], captions, sure)
    groups = [{"group": k + 1, "photos": ps, "confidence": [round(c, 4) for c in cs]}
              for k, (ps, cs) in enumerate(zip(positions, sure, strict=True))]
    unsure = [p for ps, cs in zip(positions, sure, strict=True) for p, c in zip(ps, cs, strict=True) if c < 0.5]
    summary = (f"{len(x)} photos in **{len(members)} group{'s' * (len(members) != 1)}** "
               f"(the grouping used: {settings.method}, temperature {settings.temperature:g}).")
    if unsure:
        summary += f" Unsure of photo{'s' * (len(unsure) != 1)} {', '.join(f'#{p}' for p in unsure)}: check them."
    return AlbumView(sheet, groups, format_labels(all_labels(used, photos)), summary)


def moved(labels: list[int], photo: int, group: int) -> list[int]:
    """Photo ``photo`` (index among the used photos) moved to group ``group`` (0-based; one past the last: a new
    group)."""
    count = max(labels) + 1
    if not 0 <= group <= count:
        raise DataError(f"there is no group {group + 1}: choose 1 to {count}, or {count + 1} for a new group")
    return [group if i == photo else label for i, label in enumerate(labels)]


def merged(labels: list[int], a: int, b: int) -> list[int]:
    """Groups ``a`` and ``b`` (0-based) made one."""
    _check_group(labels, a)
    _check_group(labels, b)
    return [a if label == b else label for label in labels]


def split(m: DemoModel, photos: Photos, labels: list[int], group: int) -> list[int]:
    """Group ``group`` (0-based) split in two by the model's own grouping of its photos."""
    _check_group(labels, group)
    members = [i for i, label in enumerate(labels) if label == group]
    if len(members) < 2:
        raise DataError(f"group {group + 1} has one photo: there is nothing to split")
    part = Photos(photos.images[members], [photos.names[i] for i in members], given=len(members),
                  indices=list(range(len(members))))
    halves = grouped(m, part, 2)
    new = max(labels) + 1
    out = list(labels)
    for i, half in zip(members, halves, strict=True):
        if half == 1:
            out[i] = new
    return out


def _check_group(labels: list[int], group: int) -> None:
    count = max(labels) + 1
    if not 0 <= group < count:
        raise DataError(f"there is no group {group + 1}: choose a group from 1 to {count}")


def number(value: Any, what: str) -> int:
    """A whole number the user chose (1-based) as a 0-based index; DataError when it is none."""
    text = value.strip() if isinstance(value, str) else None
    if text is not None and text.isdigit() and len(text) <= 6:
        return int(text) - 1
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer() \
            and abs(value) <= 1e6:
        return int(value) - 1
    raise DataError(f"choose {what} by its number")


class AlbumEndpoints:
    """The Album tab's functions on gallery values: the model's grouping, a correction, the photos of a group."""

    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints

    def _read(self, model_name: str, value: Any) -> tuple[DemoModel, Photos]:
        return self.endpoints.photos(model_name, value, MAX_ALBUM)

    def _out(self, m: DemoModel, photos: Photos, used: list[int]) -> tuple[str, list[dict], str, str]:
        v = view(m, photos, used)
        return self.endpoints.results.save(v.sheet), v.groups, v.labels, v.summary

    def album(self, model_name: str, photos: Any, groups: float | None = 0) -> tuple[str, list[dict], str, str]:
        """The model's grouping (``groups`` groups when 1 or more; 0: the number the model finds): sheet, groups
        (each its photos' 1-based positions in the album and confidences), labels text, sentence."""
        m, p = self._read(model_name, photos)
        count = number(groups, "the number of groups") + 1 if groups else None
        if count is not None and count < 1:
            raise DataError("the number of groups must be 1 or more (0: let the model find it)")
        return self._out(m, p, grouped(m, p, count))

    def show(self, model_name: str, photos: Any, labels: str | None) -> tuple[str, list[dict], str, str]:
        """The grouping of ``labels`` when they fit the photos (a correction, or the memory after a model switch),
        else the model's own."""
        m, p = self._read(model_name, photos)
        given = parse_labels(labels, p.given)
        return self._out(m, p, used_labels(given, p) if given is not None else grouped(m, p))

    def step(self, model_name: str, photos: Any, labels: str | None, change: int) -> tuple[str, list[dict], str, str]:
        """The model's grouping with one group fewer (``change`` -1) or more (+1) than ``labels`` have."""
        m, p = self._read(model_name, photos)
        given = parse_labels(labels, p.given)
        now = max(used_labels(given, p)) + 1 if given is not None else len(set(grouped(m, p)))
        return self._out(m, p, grouped(m, p, max(1, now + change)))

    def correct(self, model_name: str, photos: Any, labels: str | None, action: str, first: Any,
                second: Any = None) -> tuple[str, list[dict], str, str]:
        """A correction of ``labels``: "move" photo ``first`` (its number in the album) to group ``second``,
        "merge" groups ``first`` and ``second``, "split" group ``first``."""
        m, p = self._read(model_name, photos)
        given = parse_labels(labels, p.given)
        if given is None:
            raise DataError("group the album first: its labels do not fit the photos")
        used = used_labels(given, p)
        if action == "move":
            position = number(first, "the photo")
            if position not in p.indices:
                raise DataError(f"there is no usable photo {position + 1} in this album: choose one shown in a group")
            used = moved(used, p.indices.index(position), number(second, "the group"))
        elif action == "merge":
            used = merged(used, number(first, "the first group"), number(second, "the second group"))
        elif action == "split":
            used = split(m, p, used, number(first, "the group"))
        else:
            raise DataError(f"unknown correction {action!r}: move, merge or split")
        return self._out(m, p, used)

    def group_paths(self, model_name: str, photos: Any, labels: str | None, group: Any) -> list[str]:
        """The gallery paths of one group's photos (for the Pool tab: its first MAX_GROUP)."""
        paths = gallery_paths(photos)
        given = parse_labels(labels, len(paths))
        if given is None:
            raise DataError("group the album first: its labels do not fit the photos")
        chosen = number(group, "the group")
        found = [path for path, label in zip(paths, given, strict=True) if label is not None and label == chosen]
        if not found:
            raise DataError(f"there is no group {chosen + 1}: choose a group shown")
        return found[:MAX_GROUP]

    def swap_inputs(self, photos: Any, labels: str | None) -> tuple[list[str], str]:
        """Up to SWAP_PHOTOS photos for the Swap tab, SWAP_PER_GROUP of each group in turn, and their labels
        (a, b, ...)."""
        paths = gallery_paths(photos)
        given = parse_labels(labels, len(paths))
        if given is None:
            raise DataError("group the album first: its labels do not fit the photos")
        by_group: dict[int, list[str]] = {}
        for path, label in zip(paths, given, strict=True):
            if label is not None:
                by_group.setdefault(label, []).append(path)
        chosen, names = [], []
        for index, (_, members) in enumerate(sorted(by_group.items())):
            for path in members[:SWAP_PER_GROUP]:
                if len(chosen) < SWAP_PHOTOS:
                    chosen.append(path)
                    names.append(_letter(index))
        return chosen, " ".join(names)


def _letter(index: int) -> str:
    """A Swap tab label of group ``index`` (0-based)."""
    return str(index + 1)  # numbers: never the examples' letters, whose labels a new gallery drops

