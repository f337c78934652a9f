"""Uploaded photos and drawings -> model inputs, prepared exactly as the checkpoint's training data was
(``RunConfig.data``: image size, channels, centre-crop fraction or face alignment), through ``mlvae.data.images``
and ``mlvae.data.faces``. A faces model trained on aligned faces gets each photo's largest face, found and aligned
the same way; a photo without a face is refused with a message, several faces or a small one are noted. An
image already at the model's input size (the demo's examples, a crop saved from the demo) is taken as aligned.
Digit models get one extra step: a light-background image is framed the MNIST way (``demo.inputs.digit_framing``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from mlvae import DataConfig, DataError
from mlvae.data.faces import DETECT_MAX_SIDE, NoFaceError, align_face
from mlvae.data.images import MAX_ASPECT, image_to_tensor, open_image, prepare_image, to_model_mode

from .decode_budget import charge, charge_search
from .digit_framing import frame_digit, has_light_background

MAX_PHOTO_BYTES = 16 << 20  # per photo; larger uploads (Gradio takes up to demo.app.UPLOAD_LIMIT) are refused by name
MAX_PIXELS = 24_000_000  # decoded size limit per upload (JPEGs are decoded reduced, so this is met by other formats)
SQUEEZE = 0.75  # a photo without a face is searched again squeezed this much sideways, then upwards: stretched?


@dataclass(frozen=True)
class Preparation:
    """How a checkpoint's training images were prepared (from its ``DataConfig``), and whether its inputs are
    digits (light-background images framed the MNIST way: the model's kind says so, ``demo.kinds``)."""

    size: int
    channels: int
    crop_fraction: float
    align_faces: bool = False
    digits: bool = False

    @classmethod
    def of(cls, data: DataConfig, digits: bool) -> Preparation:
        """The preparation recorded in a checkpoint's data config, for a model that takes ``digits`` or not."""
        return cls(data.image_size, data.image_channels, data.crop_fraction, data.align_faces, digits)


def prepare_file(path: str | Path, prep: Preparation) -> torch.Tensor:
    """One image file -> uint8 (C, size, size) as the model was trained, or DataError naming the problem."""
    return prepare_photo(path, prep)[0]


def prepare_photo(path: str | Path, prep: Preparation) -> tuple[torch.Tensor, list[str]]:
    """``prepare_file`` with notes for the user on the photo (several faces, a small face)."""
    path = Path(path)
    return prepare_opened(open_photo(path, prep), prep, path.name)


def open_photo(path: Path, prep: Preparation, max_pixels: int = MAX_PIXELS, min_side: int | None = None) -> Image.Image:
    """An uploaded photo or webcam frame decoded within the bounds every photo gets (file size, pixels, aspect
    ratio, the request's budget), reduced as far as ``prep`` allows (a JPEG's shorter side kept at ``min_side`` or
    more, when given); DataError naming the file otherwise."""
    if not path.is_file():
        raise DataError(f"{path.name}: the upload is missing on the server; upload it again")
    if path.stat().st_size > MAX_PHOTO_BYTES:
        raise DataError(f"{path.name}: {path.stat().st_size / (1 << 20):.0f} MB, over the {MAX_PHOTO_BYTES >> 20} MB "
                        "a photo may be; send a smaller copy (e.g. a JPEG)")
    # decode JPEGs reduced, but never below 2x the crop the model sees, so the final resize stays antialiased;
    # faces are searched for in photos of up to DETECT_MAX_SIDE pixels
    min_side = min_side or (DETECT_MAX_SIDE if prep.align_faces else int(np.ceil(2 * prep.size / prep.crop_fraction)))
    return open_image(path, min_side=min_side, max_pixels=min(max_pixels, MAX_PIXELS), before_decode=charge,
                      max_aspect=MAX_ASPECT)


def stretched(image: Image.Image) -> str | None:
    """How a photo without a face must be squeezed for one to be found ("sideways", "top to bottom"), or None."""
    for direction, (fx, fy) in (("sideways", (SQUEEZE, 1.0)), ("top to bottom", (1.0, SQUEEZE))):
        scale = min(1.0, DETECT_MAX_SIDE / max(image.size))
        size = (max(1, round(image.width * scale * fx)), max(1, round(image.height * scale * fy)))
        try:
            align_face(to_model_mode(image, 3).resize(size, Image.Resampling.BILINEAR), 16,
                       before_search=charge_search)
            return direction
        except NoFaceError:
            continue
    return None


def prepare_opened(image: Image.Image, prep: Preparation, name: str) -> tuple[torch.Tensor, list[str]]:
    """An opened, upright image (an upload, a webcam frame) -> uint8 (C, size, size) and notes; DataError naming
    ``name`` when it cannot be used."""
    if prep.align_faces and image.size != (prep.size, prep.size):
        try:
            face = align_face(to_model_mode(image, 3), prep.size, name, before_search=charge_search)
        except NoFaceError:
            squeeze = stretched(image)
            if squeeze is not None:
                raise NoFaceError(f"{name}: no face found, but one is when the photo is squeezed "
                                  f"{squeeze}: the photo looks stretched and its face distorted; use the "
                                  "photo at its own aspect ratio") from None
            raise
        return image_to_tensor(to_model_mode(face.image, prep.channels)), face.warnings(name)
    if prep.digits:
        image = to_model_mode(image, 1)
        if has_light_background(image):
            image = frame_digit(ImageOps.invert(image))
    return prepare_image(image, prep.size, prep.channels, prep.crop_fraction), []
