"""Faces in: find the largest face in a photo, fit its 5 landmarks, and warp it to one canonical framing.

The framing is the one dlib's face-recognition network is trained on (``dlib.get_face_chip_details`` with
padding 0.25): a similarity transform that puts the eyes level, at a fixed distance and position. CelebA's and
LFW's photos, and a user's phone photo, all come out framed alike, and an aligned model image upscaled to
150 x 150 is itself a valid input of the identity judge (``mlvae.evaluation.identity``).

Uses dlib (the ``dlib-bin`` wheel) and the weights of the ``face-recognition-models`` package; neither needs a
network at run time.
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from mlvae.errors import DataError

CHIP_PADDING = 0.25  # dlib's default: the recogniser's framing
DETECT_MAX_SIDE = 1024  # photos are searched for faces at most this large (HOG cost grows with pixels)
UPSAMPLE_MAX_SIDE = 640  # a photo searched at most this large is searched again upsampled when no face is found
SMALL_FACE_PX = 40  # faces narrower than this (in the photo's pixels) carry little detail: warn
SAME_SIZE = 0.9  # a second face at least this fraction of the largest one's width: "about the same size"
ALIGNMENT_VERSION = 1  # part of the cache key: bump when the framing changes


class NoFaceError(DataError):
    """No face was found in a photo; the message names the photo and what to do."""


@dataclass
class AlignedFace:
    """An aligned face crop and what the detector saw."""

    image: Image.Image  # size x size, RGB
    faces_found: int  # faces detected in the photo; the largest was taken
    face_width: float  # width of the detected face box, in the photo's pixels
    runner_up_width: float = 0.0  # width of the next largest face found (0 when only one)
    position: str = ""  # where the face used lies in the photo, in words ("on the left"), when several were found

    def warnings(self, name: str) -> list[str]:
        """User-facing notes: several faces, a small face."""
        notes = []
        where = f" (the one {self.position})" if self.position else ""
        if self.faces_found > 1 and self.runner_up_width >= SAME_SIZE * self.face_width:
            notes.append(f"{name}: {self.faces_found} faces of about the same size found; the face used{where} may "
                         "not be the one you meant: crop the photo to one face")
        elif self.faces_found > 1:
            notes.append(f"{name}: {self.faces_found} faces found; the largest{where} was used, the others left "
                         "out: if it is not the person you mean, crop the photo to that face")
        if self.face_width < SMALL_FACE_PX:
            notes.append(
                f"{name}: the face is only {self.face_width:.0f} px wide; the model sees little detail. "
                "A closer photo works better"
            )
        return notes


def models_folder() -> Path:
    """The ``models/`` folder of the ``face-recognition-models`` package.

    Found without importing the package: its ``__init__`` needs ``pkg_resources``, which current setuptools
    no longer has."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "face alignment needs the face-recognition-models package: pip install face-recognition-models dlib-bin"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@cache
def _dlib_models() -> tuple:
    try:
        import dlib
    except ImportError as exc:
        raise DataError("face alignment needs dlib: pip install dlib-bin face-recognition-models") from exc
    folder = models_folder()
    landmarks = dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat"))
    return dlib, dlib.get_frontal_face_detector(), landmarks


_lock = threading.Lock()  # dlib's detector and predictor objects are not documented as thread-safe


def align_face(
    image: Image.Image, size: int, name: str = "photo", before_search: Callable[[int], None] | None = None,
) -> AlignedFace:
    """The largest face of ``image`` (any mode, upright), warped to the canonical framing at ``size`` x ``size``.

    Raises NoFaceError naming ``name`` when no face is found. ``before_search(pixels)`` is called before each
    search with the pixels it covers (the upsampled second search of a small photo: four times its own); it may
    raise DataError."""
    dlib, detector, predictor = _dlib_models()
    rgb = np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))
    scale = min(1.0, DETECT_MAX_SIDE / max(rgb.shape[:2]))
    small = rgb if scale == 1.0 else np.asarray(
        image.convert("RGB").resize((max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale))),
                                    Image.Resampling.BILINEAR), dtype=np.uint8)
    pixels = small.shape[0] * small.shape[1]
    charge = before_search or (lambda _: None)
    charge(pixels)
    with _lock:
        boxes = list(detector(small, 0))
    if not boxes and max(small.shape[:2]) <= UPSAMPLE_MAX_SIDE:  # small faces (a 96 px photo): search it upsampled
        charge(4 * pixels)
        with _lock:
            boxes = list(detector(small, 1))
    with _lock:
        if not boxes and min(image.size) < 2 * SMALL_FACE_PX:
            raise NoFaceError(f"{name}: the image is only {image.width} x {image.height} pixels, too small to find a "
                              f"face in; use a photo in which the face is at least {SMALL_FACE_PX} pixels wide")
        if not boxes:
            raise NoFaceError(
                f"{name}: no face found; use a photo where one face is clearly visible, upright and not too small"
            )
        boxes.sort(key=lambda b: b.width() * b.height(), reverse=True)
        box = boxes[0]
        full = dlib.rectangle(int(box.left() / scale), int(box.top() / scale),
                              int(box.right() / scale), int(box.bottom() / scale))
        shape = predictor(rgb, full)
        chip = dlib.extract_image_chip(rgb, dlib.get_face_chip_details(shape, size, CHIP_PADDING))
    runner_up = boxes[1].width() / scale if len(boxes) > 1 else 0.0
    position = place_in_photo((full.left() + full.right()) / 2 / image.width) if len(boxes) > 1 else ""
    return AlignedFace(Image.fromarray(np.asarray(chip, dtype=np.uint8)), len(boxes), full.width(), runner_up,
                       position)


def place_in_photo(x: float) -> str:
    """Where a point at ``x`` (0: the photo's left edge, 1: its right edge) lies, in words."""
    return "on the left" if x < 1 / 3 else "on the right" if x > 2 / 3 else "in the middle"


def cache_root() -> Path:
    """Where aligned crops of data files are kept: ``$MLVAE_CACHE_DIR`` or ``~/.cache/mlvae``."""
    return Path(os.environ.get("MLVAE_CACHE_DIR") or Path.home() / ".cache" / "mlvae") / "aligned-faces"


class AlignmentCache:
    """Aligned crops of files, keyed by the file's bytes and the framing: a second run costs no detection.

    A file with no face is cached too (as an empty marker), so it is not searched again."""

    def __init__(self, size: int, root: Path | None = None) -> None:
        self.size = size
        self.folder = (root or cache_root()) / f"v{ALIGNMENT_VERSION}-{size}px-pad{CHIP_PADDING:g}"

    def _path(self, data: bytes) -> Path:
        digest = hashlib.sha256(data).hexdigest()
        return self.folder / digest[:2] / f"{digest}.png"

    def get(self, path: Path, load: Callable[[Path], Image.Image]) -> Image.Image:
        """The aligned crop of the image file ``path`` (``load``: path -> upright PIL image).

        Raises NoFaceError (cached) or whatever ``load`` raises."""
        data = path.read_bytes()
        cached = self._path(data)
        if cached.exists():
            if cached.stat().st_size == 0:
                raise NoFaceError(f"{path.name}: no face found (cached result)")
            crop = self._read(cached)
            if crop is not None:
                return crop
        try:
            crop = align_face(load(path), self.size, path.name).image
        except NoFaceError:
            self._write(cached, b"")
            raise
        buffer = io.BytesIO()
        crop.save(buffer, format="PNG")
        self._write(cached, buffer.getvalue())
        return crop

    def _read(self, cached: Path) -> Image.Image | None:
        """A cached crop, or None (the entry removed, to be made again) when it is unreadable or of another size."""
        try:
            with Image.open(cached, formats=("PNG",)) as crop:
                crop.load()
                if crop.size == (self.size, self.size):
                    return crop.convert("RGB")
        except (OSError, SyntaxError, ValueError):  # truncated or corrupt: never trusted
            pass
        cached.unlink(missing_ok=True)
        return None

    @staticmethod
    def _write(target: Path, payload: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(payload)
        os.replace(tmp, target)  # never a half-written crop under the final name
