"""Drawing-pad drawings: decoded within the demo's image checks, saved as PNG in a private per-process folder.

The pad sends its composite as image bytes; ``decode_drawing`` reads them like an upload (only
``IMAGE_FORMATS``, at most ``MAX_DRAWING_PIXELS``, the size checked from the header before decoding). The folder
is made by ``mkdtemp`` (mode 0700, a random name), so another local user cannot pre-create it or read the
drawings; drawings older than ``DRAWING_TTL_S`` are removed at each save (Gradio has copied a returned drawing into
its own upload folder long before), and the folder at exit.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image

from mlvae import DataError
from mlvae.data.images import MAX_ASPECT, open_image

MAX_DRAWING_BYTES = 2 << 20  # a 280 x 280 canvas is at most ~320 kB as PNG
MAX_DRAWING_PIXELS = 4_000_000  # the canvas is 280 x 280; a composite larger than this was not drawn on it
DRAWING_TTL_S = 600

_folder: Path | None = None
_lock = threading.Lock()


def drawings_folder() -> Path:
    """This process's private drawings folder (created on first use, removed at exit)."""
    global _folder
    with _lock:
        if _folder is None or not _folder.is_dir():
            _folder = Path(tempfile.mkdtemp(prefix="mlvae-drawings-"))
            atexit.register(shutil.rmtree, _folder, ignore_errors=True)
        return _folder


def sweep(folder: Path, older_than_s: float = DRAWING_TTL_S) -> int:
    """Delete the drawings in ``folder`` last modified more than ``older_than_s`` ago; returns how many."""
    cutoff, removed = time.time() - older_than_s, 0
    for path in folder.glob("drawing-*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:  # removed meanwhile by another request
            pass
    return removed


def decode_drawing(data: bytes, folder: Path | None = None) -> Image.Image:
    """The pad's composite (image bytes) decoded within the demo's image checks, as RGBA; DataError naming
    the problem when the bytes are too large or not an image the demo reads."""
    if len(data) > MAX_DRAWING_BYTES:
        raise DataError(f"the drawing is {len(data) >> 10} kB, more than the {MAX_DRAWING_BYTES >> 20} MB a "
                        "280 x 280 drawing takes; clear the pad and draw again")
    fd, raw = tempfile.mkstemp(prefix="drawing-", suffix=".upload", dir=folder or drawings_folder())
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return open_image(raw, max_pixels=MAX_DRAWING_PIXELS, max_aspect=MAX_ASPECT).convert("RGBA")
    except DataError as exc:  # its message names the temporary file: say "the drawing" instead
        raise DataError(str(exc).replace(raw, "the drawing").replace(Path(raw).name, "the drawing")) from None
    finally:
        os.unlink(raw)


def save_drawing(image: Image.Image | None, folder: Path | None = None) -> str | None:
    """Write a drawing as a PNG in the drawings folder (sweeping old ones) and return its path; None for None."""
    if image is None:
        return None
    folder = folder or drawings_folder()
    sweep(folder)
    fd, name = tempfile.mkstemp(prefix="drawing-", suffix=".png", dir=folder)
    os.close(fd)
    image.save(name, format="PNG")
    return name
