"""Turning any image PIL can open into a model input, the same way for training, evaluation and the demo."""
from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from mlvae.data.headers import jpeg_segments, metadata_flood
from mlvae.errors import DataError

# Decompression-bomb guard: images above this many pixels are refused before decoding (a 10000 x 10000
# photo, 100 megapixels, still opens).
MAX_PIXELS = 120_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# The raster formats photos come in (JPEG includes phones' MPO files). No other PIL plugin ever sees a file:
# some run external programs (EPS runs Ghostscript).
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP", "AVIF", "PPM")
# The most elongated image the demo takes (longer side over shorter): a 1 x 30000 strip is a few bytes, but
# anything drawn at its longer side's scale (a square canvas, a face search) would take gigabytes.
MAX_ASPECT = 20


# EXIF orientation -> the transpose that turns the stored pixels upright
ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; an unreadable EXIF block leaves the pixels as stored.

    (Not ``ImageOps.exif_transpose``: it also rewrites the EXIF block, which fails on some corrupt ones.)"""
    try:
        orientation = image.getexif().get(0x0112, 1)
    except (SyntaxError, struct.error, TypeError, ValueError, KeyError, OSError):
        return image
    method = ORIENTATIONS.get(orientation) if isinstance(orientation, int) else None
    return image if method is None else image.transpose(method)


def to_model_mode(image: Image.Image, channels: int) -> Image.Image:
    """Apply EXIF orientation and convert any mode (palette, CMYK, LAB, 16-bit, float, alpha) to RGB or L."""
    image = upright(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):  # 16/32-bit or float greyscale: rescale to 8 bits first
        arr = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        top = arr.max() if arr.size else 0.0
        # float images hold [0, 1] (scientific, HDR exports) or [0, 255]; integer ones 8 bits or more
        hi = 1.0 if image.mode == "F" and 0 < top <= 1.0 else top if top > 255 else 255.0
        image = Image.fromarray(np.clip(arr / hi * 255.0, 0, 255).astype(np.uint8), mode="L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    if image.mode not in ("RGB", "L", "1", "P", "CMYK", "I", "F"):  # e.g. LAB, YCbCr: no direct path to L
        image = image.convert("RGB")
    return image.convert("RGB" if channels == 3 else "L")


def centre_crop_resize(image: Image.Image, size: int, crop_fraction: float = 1.0) -> Image.Image:
    """Centre square crop of side ``crop_fraction`` x the shorter side, resized to ``size`` x ``size``."""
    width, height = image.size
    side = max(1, int(round(min(width, height) * crop_fraction)))
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    # draft-free reduce first: keeps huge photos fast and the result antialiased
    if side > 4 * size:
        image = image.reduce(side // (2 * size))
    return image.resize((size, size), Image.Resampling.BICUBIC if size > 32 else Image.Resampling.LANCZOS)


def image_to_tensor(image: Image.Image) -> torch.Tensor:
    """PIL image (RGB or L) -> uint8 tensor (C, H, W)."""
    arr = np.asarray(image, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()


MIN_DISPLAY_SIDE = 56  # small images (MNIST's 28 px) are shown enlarged by a whole factor up to at least this


def display_scale(size: int) -> int:
    """Whole-number enlargement with which images of ``size`` pixels are shown (figures and the demo)."""
    return max(1, -(-MIN_DISPLAY_SIDE // size))


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Float (..., C, H, W) in [0, 1] or uint8 -> uint8 array (..., H, W, C)."""
    if images.dtype != torch.uint8:
        images = images.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
    return images.cpu().movedim(-3, -1).numpy()


def array_to_image(array: np.ndarray, scale: int = 1) -> Image.Image:
    """uint8 (H, W, C) with C = 1 or 3 -> PIL image (L or RGB), enlarged ``scale`` times (nearest neighbour)."""
    image = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    return image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST) if scale > 1 else image


def tensor_to_image(image: torch.Tensor, scale: int = 1) -> Image.Image:
    """One image (C, H, W), float in [0, 1] or uint8 -> PIL image (L or RGB), enlarged ``scale`` times."""
    return array_to_image(to_uint8(image), scale)


def prepare_image(image: Image.Image, size: int, channels: int, crop_fraction: float = 1.0) -> torch.Tensor:
    """Any PIL image -> uint8 (C, size, size), prepared as the model was trained."""
    return image_to_tensor(centre_crop_resize(to_model_mode(image, channels), size, crop_fraction))


# JPEG frame markers (SOFn) whose scans are progressive
PROGRESSIVE_SOF = (0xC2, 0xC6, 0xCA, 0xCE)
MAX_HEADER_SEGMENTS = 256  # a JPEG's tables and metadata before its first scan; a real one has a dozen


def jpeg_full_size_decode(path: Path) -> str | None:
    """"progressive" or "multi-scan" for a JPEG that libjpeg decodes through a buffer of the whole image's
    coefficients, whatever reduced size it is drawn at (its first scan holds fewer components than the frame);
    None for one decoded row by row."""
    with open(path, "rb") as f:
        if f.read(2) != b"\xff\xd8":
            return None
        frame_components = 0
        for steps, (marker, length) in enumerate(jpeg_segments(f), 1):
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a frame header (SOFn)
                if marker in PROGRESSIVE_SOF:
                    return "progressive"
                segment = f.read(length)
                frame_components = segment[5] if len(segment) > 5 else 0
            elif marker == 0xDA:  # the first scan
                segment = f.read(length)
                return "multi-scan" if segment and segment[0] < frame_components else None
            if steps >= MAX_HEADER_SEGMENTS:
                return "multi-scan"  # a header that never ends: assume the costly case
    return None


def open_image(
    path: str | Path, min_side: int | None = None, max_pixels: int | None = None,
    before_decode: Callable[[int, int], None] | None = None, max_aspect: float | None = None,
) -> Image.Image:
    """Open and fully decode an image file, or raise DataError naming the file and the problem.

    ``min_side``: a JPEG is decoded reduced (by 2, 4 or 8, in its DCT) as far as its shorter side stays at least
    this large, which makes huge photos fast. ``max_pixels``: images still larger are refused before decoding
    (default and upper bound: MAX_PIXELS); ``max_aspect``: so are images more elongated than this (longer side
    over shorter; None: any). Only IMAGE_FORMATS are read; a PNG, JPEG or GIF flooded with metadata is refused
    before PIL reads it (``mlvae.data.headers``). ``before_decode(width, height)`` is
    called with the size about to be decoded, once the checks have passed; it may raise DataError."""
    path = Path(path)
    limit = min(max_pixels or MAX_PIXELS, MAX_PIXELS)
    try:
        flood = metadata_flood(path)  # PIL would read it piece by piece, for seconds
        if flood:
            raise DataError(f"{path.name}: {flood}, too costly to read; save it again without its metadata and retry")
        with Image.open(path, formats=IMAGE_FORMATS) as image:
            full_size = image.format in ("JPEG", "MPO") and image.width * image.height > limit and \
                jpeg_full_size_decode(path)
            if full_size:
                raise DataError(
                    f"{path.name}: a {full_size} JPEG of {image.width} x {image.height} pixels is larger than the "
                    f"{limit / 1e6:.0f} megapixels allowed here (such a JPEG is decoded at its full size); resize it, "
                    "or save it as a baseline JPEG, and retry"
                )
            if min_side and image.format in ("JPEG", "MPO"):
                image.draft(None, (min_side, min_side))
            # checked here, not through PIL's DecompressionBombWarning: warning filters are process-wide and
            # not thread-safe, and the folder loader decodes in threads
            if image.width * image.height > limit:
                raise DataError(
                    f"{path.name}: {image.width} x {image.height} pixels is larger than the "
                    f"{limit / 1e6:.0f} megapixels allowed here; resize it (or save it as a JPEG) and retry"
                )
            if max_aspect is not None and max(image.size) > max_aspect * max(min(image.size), 1):
                raise DataError(
                    f"{path.name}: {image.width} x {image.height} pixels is more elongated than the {max_aspect:g}:1 "
                    "allowed here; crop it closer to a square and retry"
                )
            if before_decode is not None:
                before_decode(image.width, image.height)
            image.load()  # an animation (GIF, APNG, a phone's MPO) opens on its first frame
            return image.copy()
    except Image.DecompressionBombError as exc:
        raise DataError(f"{path.name}: image is too large to decode safely ({exc}); resize it first") from exc
    except (OSError, ValueError, SyntaxError, struct.error) as exc:
        # PIL's messages quote the file's whole path: the server's folders are nobody's business, and the name leads
        reason = str(exc).replace(f" {str(path)!r}", "").replace(str(path), path.name)
        raise DataError(f"{path.name}: not a readable image ({reason}); replace or remove the file") from exc


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, C, H, W) -> float32 in [0, 1]."""
    return images.float().div_(255.0)
