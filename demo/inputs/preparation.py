"""Uploaded photos and drawings -> model inputs, prepared exactly as the checkpoint's training data was
(``RunConfig.data``: image size, channels, centre-crop fraction or face alignment), through ``mlvae.data.images``
and ``mlvae.data.faces``. A faces model trained on aligned faces gets each photo's largest face, found and aligned
the same way; a photo without a face is refused with a message, several faces or a small one are noted. An
image already at the model's input size (the demo's examples, a crop saved from the demo) is taken as aligned.

Digit models get one extra step, because MNIST digits are white ink on black, centred in a 20-pixel box of the
28-pixel frame: a light-background image (a drawing, a scan of ink on paper) is inverted and its ink is framed
the MNIST way. Images that already look like MNIST (dark background) are prepared as they are.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch
from PIL import Image, ImageOps

from mlvae import DataConfig, DataError, MLVAEError
from mlvae.data.faces import DETECT_MAX_SIDE, align_face
from mlvae.data.images import MAX_ASPECT, image_to_tensor, open_image, prepare_image, to_model_mode

from .decode_budget import BudgetSpent, charge, charge_search, decode_budget
from .drawings import drawings_folder

MAX_PHOTO_BYTES = 16 << 20  # per photo; larger uploads (Gradio takes up to demo.app.UPLOAD_LIMIT) are refused by name
MAX_PIXELS = 24_000_000  # decoded size limit per upload (JPEGs are decoded reduced, so this is met by other formats)
MNIST_INK_BOX = 20 / 28  # MNIST digits fit a 20 x 20 box centred in the 28 x 28 frame
INK_THRESHOLD = 0.25  # a pixel is ink above this fraction of the brightest pixel
MAX_INK_SIDE = 1024  # the ink box is shrunk to this before framing (the frame becomes 28 pixels): a bounded canvas


@dataclass(frozen=True)
class Preparation:
    """How a checkpoint's training images were prepared (from its ``DataConfig``)."""

    size: int
    channels: int
    crop_fraction: float
    align_faces: bool = False

    @classmethod
    def of(cls, data: DataConfig) -> "Preparation":
        """The preparation recorded in a checkpoint's data config."""
        return cls(data.image_size, data.image_channels, data.crop_fraction, data.align_faces)

    @property
    def digits(self) -> bool:
        """Single-channel (MNIST-style) inputs."""
        return self.channels == 1


@dataclass
class Photos:
    """Prepared inputs ``images`` uint8 (B, C, H, W), their file ``names``, a message per refused file,
    ``notes`` on files that were used with a caveat (several faces, a small face), the number of photos
    ``given`` and the position among them of each one used (``indices``)."""

    images: torch.Tensor
    names: list[str]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    given: int = 0
    indices: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return self.images.shape[0]


def has_light_background(image: Image.Image) -> bool:
    """True when the border of a greyscale image is mostly light (ink on paper rather than MNIST's black)."""
    arr = np.asarray(image, dtype=np.uint8)
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    return float(np.median(border)) > 127


def frame_digit(image: Image.Image) -> Image.Image:
    """White-on-black greyscale digit -> a square frame in which, like MNIST, the ink box spans 20/28 of the
    side and the ink's centre of mass sits at the centre."""
    arr = np.asarray(image, dtype=np.uint8)
    ink = arr > INK_THRESHOLD * max(int(arr.max()), 1)
    if arr.max() < 32 or not ink.any():
        raise DataError("the drawing is empty: draw a digit (dark ink on a light background, or light on dark)")
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    box = image.crop((cols[0], rows[0], cols[-1] + 1, rows[-1] + 1))
    if max(box.size) > MAX_INK_SIDE:  # shrunk first: the canvas's side follows the ink box's longer side
        scale = MAX_INK_SIDE / max(box.size)
        box = box.resize((max(1, round(box.width * scale)), max(1, round(box.height * scale))), Image.Resampling.BOX)
    width, height = box.size
    side = int(np.ceil(max(height, width) / MNIST_INK_BOX))
    crop = np.asarray(box, dtype=np.float64)
    mass = max(crop.sum(), 1.0)
    cy, cx = (crop.sum(axis=1) @ np.arange(height)) / mass, (crop.sum(axis=0) @ np.arange(width)) / mass
    # centre of mass to the centre, but never pushing the ink out of the frame
    x = int(round(min(max(side / 2 - cx, 0), side - width)))
    y = int(round(min(max(side / 2 - cy, 0), side - height)))
    canvas = Image.new("L", (side, side), 0)
    canvas.paste(box, (x, y))
    return canvas


def prepare_file(path: str | Path, prep: Preparation) -> torch.Tensor:
    """One image file -> uint8 (C, size, size) as the model was trained, or DataError naming the problem."""
    return prepare_photo(path, prep)[0]


def prepare_photo(path: str | Path, prep: Preparation) -> tuple[torch.Tensor, list[str]]:
    """``prepare_file`` with notes for the user on the photo (several faces, a small face)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path.name}: the upload is missing on the server; upload it again")
    if path.stat().st_size > MAX_PHOTO_BYTES:
        raise DataError(f"{path.name}: {path.stat().st_size / (1 << 20):.0f} MB, over the {MAX_PHOTO_BYTES >> 20} MB "
                        "a photo may be; send a smaller copy (e.g. a JPEG)")
    # decode JPEGs reduced, but never below 2x the crop the model sees, so the final resize stays antialiased;
    # faces are searched for in photos of up to DETECT_MAX_SIDE pixels
    min_side = DETECT_MAX_SIDE if prep.align_faces else int(np.ceil(2 * prep.size / prep.crop_fraction))
    return prepare_opened(open_image(path, min_side=min_side, max_pixels=MAX_PIXELS, before_decode=charge,
                                     max_aspect=MAX_ASPECT), prep, path.name)


def prepare_opened(image: Image.Image, prep: Preparation, name: str) -> tuple[torch.Tensor, list[str]]:
    """An opened, upright image (an upload, a webcam frame) -> uint8 (C, size, size) and notes; DataError naming
    ``name`` when it cannot be used."""
    if prep.align_faces and image.size != (prep.size, prep.size):
        face = align_face(to_model_mode(image, 3), prep.size, name, before_search=charge_search)
        return image_to_tensor(to_model_mode(face.image, prep.channels)), face.warnings(name)
    if prep.digits:
        image = to_model_mode(image, 1)
        if has_light_background(image):
            image = frame_digit(ImageOps.invert(image))
    return prepare_image(image, prep.size, prep.channels, prep.crop_fraction), []


CACHE_SIZE = 512  # prepared uploads remembered


class PreparedUploads:
    """``prepare_photo`` results remembered by file content alone, least recently used dropped first.

    Keyed by what the file holds, not where it lies or what it is called: Gradio stores each upload as a new
    file, so a photo sent again (gradio_client re-sends every file with every call; a user drops the same photo
    into a second tab; a client renames it) would otherwise be decoded and its face searched anew. Messages name
    the file: they are kept with its name left out (``NAME``) and given the name it is sent under."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple, tuple[torch.Tensor, list[str]] | str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str | Path, prep: Preparation) -> tuple[torch.Tensor, list[str]] | str:
        """``prepare_photo`` of ``path``, from memory when this content was prepared before; a problem as text."""
        try:
            with open(path, "rb") as handle:
                digest = hashlib.file_digest(handle, "blake2b").hexdigest()
        except (OSError, ValueError):  # ValueError: a NUL byte in the name
            return f"{Path(path).name}: the upload is missing on the server; upload it again"
        name = Path(path).name
        key = (digest, prep) if "." in name else (name, digest, prep)  # a name without a dot may be a word
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return named(self._items[key], name)
        result = _prepare_or_problem(path, prep)
        with self._lock:
            self._items[key] = unnamed(result, name)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return result

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


NAME = "\x00"  # where a remembered message names its file (no file name holds a NUL)
Prepared = tuple[torch.Tensor, list[str]] | str


def unnamed(result: Prepared, name: str) -> Prepared:
    """A ``prepare_photo`` result with the file's name in its messages replaced by NAME."""
    if isinstance(result, str):
        return result.replace(name, NAME)
    return result[0], [note.replace(name, NAME) for note in result[1]]


def named(result: Prepared, name: str) -> Prepared:
    """A remembered result with ``name`` put back into its messages."""
    if isinstance(result, str):
        return result.replace(NAME, name)
    return result[0], [note.replace(NAME, name) for note in result[1]]


def _prepare_or_problem(path: str | Path, prep: Preparation) -> tuple[torch.Tensor, list[str]] | str:
    try:
        return prepare_photo(path, prep)
    except BudgetSpent:  # the request's problem, not the file's: never cached
        raise
    except MLVAEError as exc:
        return str(exc)
    except (OSError, ValueError, MemoryError) as exc:  # anything PIL lets through: still one file's problem
        return f"{Path(path).name}: could not be read as an image ({type(exc).__name__}: {exc}); try another file"


PREPARED = PreparedUploads()


def prepare_cached(path: str | Path, prep: Preparation) -> tuple[torch.Tensor, list[str]] | str:
    """``prepare_file`` remembered per file content (slider moves and re-sent photos re-use it): (tensor, notes),
    or the problem as text."""
    return PREPARED.get(path, prep)


def clear_cache() -> None:
    """Forget every prepared upload (the benchmark's cold requests)."""
    PREPARED.clear()


def upload_folders() -> list[Path]:
    """The folders a request's files may lie in: Gradio's upload folder (uploads, and the examples and
    drawings it copies there) and the demo's own drawings and examples."""
    from gradio.utils import get_upload_folder

    from .example_sets import EXAMPLES_DIR

    return [Path(get_upload_folder()).resolve(), drawings_folder().resolve(), EXAMPLES_DIR.resolve()]


MAX_PATH_CHARS = 1024  # an upload's path: the upload folder, a hash folder and a name of at most 255 characters
MAX_NAME_CHARS = 120  # a file's name as a message shows it


def shown_name(path: str | Path) -> str:
    """A file's name for a message: its last part, shortened when a crafted one is very long."""
    name = Path(str(path)).name
    return name if len(name) <= MAX_NAME_CHARS else f"{name[:MAX_NAME_CHARS]}..."


def not_uploaded(path: str | Path, allowed: Sequence[Path]) -> str | None:
    """Why a request may not use the file ``path`` (an over-long path, or one outside ``allowed``, the server's
    upload folders), as a message naming it; None when it may."""
    if len(str(path)) > MAX_PATH_CHARS:
        return (f"a file path of {len(str(path))} characters: not a file uploaded to this demo (an upload's path "
                f"is under {MAX_PATH_CHARS}); upload the image itself")
    if not is_inside(path, allowed):
        return f"{shown_name(path)}: not a file uploaded to this demo; upload the image itself"
    return None


def is_inside(path: str | Path, folders: Sequence[Path]) -> bool:
    """True when ``path``, with every link and '..' resolved, lies inside one of ``folders``."""
    try:
        real = Path(os.path.realpath(path))
    except (OSError, ValueError):  # e.g. a NUL byte in the name
        return False
    return any(real.is_relative_to(folder) for folder in folders)


def read_photos(
    paths: Sequence[str | Path], prep: Preparation, limit: int | None = None, allowed: Sequence[Path] | None = None
) -> Photos:
    """Prepare every readable file of ``paths`` (the first ``limit``); unreadable ones become ``problems``.

    ``allowed``: folders the files must lie in (the server's upload folders); a path elsewhere, as a crafted API
    request could name, is refused before anything reads it. None: any path (the caller's own files)."""
    problems: list[str] = []
    given = len(paths)
    if limit is not None and len(paths) > limit:
        problems.append(f"{len(paths)} photos given: this part of the demo uses the first {limit}")
        paths = paths[:limit]
    kept, names, notes, indices = [], [], [], []
    with decode_budget():  # the pixels this gallery's photos may decode, in all (demo.decode_budget)
        for index, path in enumerate(paths):
            refused = not_uploaded(path, allowed) if allowed is not None else None
            if refused:
                problems.append(refused)
                continue
            try:
                result = prepare_cached(path, prep)
            except BudgetSpent as exc:
                result = f"{Path(path).name}: {exc}"
            if isinstance(result, str):
                problems.append(result)
            else:
                kept.append(result[0])
                notes.extend(result[1])
                names.append(Path(path).name)
                indices.append(index)
    images = torch.stack(kept) if kept else torch.zeros((0, prep.channels, prep.size, prep.size), dtype=torch.uint8)
    return Photos(images, names, problems, notes, given, indices)


def gallery_paths(value: Any) -> list[str]:
    """File paths of a Gradio gallery value: a list of paths or of (path, caption) pairs; None -> []."""
    if not value:
        return []
    paths = []
    for item in value:
        if isinstance(item, (tuple, list)):
            item = item[0]
        if isinstance(item, dict):  # a FileData-like dict
            item = item.get("path") or (item.get("image") or {}).get("path")
        if item:
            paths.append(str(item))
    return paths


def labels_to_groups(labels: str, count: int, used: Sequence[int] | None = None) -> list[list[int]]:
    """Group labels ("a a b b", one per photo) -> for each photo, the indices of the OTHER photos of its group.

    An empty string puts every photo in one group. Raises DataError when the count of labels is wrong.
    ``used``: the positions of the photos that could be used (the others were refused); the labels are
    counted against all ``count`` photos, and the groups returned are over the used ones, indexed among them."""
    parts = labels.replace(",", " ").split()
    if not parts:
        parts = ["all"] * count
    if len(parts) != count:
        raise DataError(
            f"{len(parts)} group labels for {count} photos: give one label per photo, in upload order "
            "(e.g. 'a a b b' for two photos each of two people), or leave the labels empty for one group"
        )
    if used is not None:
        parts = [parts[i] for i in used]
    return [[j for j, other in enumerate(parts) if other == mine and j != i] for i, mine in enumerate(parts)]


def first_problems(problems: Iterable[str], limit: int = 4) -> list[str]:
    """At most ``limit`` messages, the rest summarised in one more line."""
    problems = list(problems)
    if len(problems) <= limit:
        return problems
    return problems[:limit] + [f"... and {len(problems) - limit} more files could not be used"]
