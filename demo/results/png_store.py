"""Result images written as PNG files where Gradio serves them from, fast, and cleaned up after an hour.

Gradio's own PNG encoding uses zlib level 6 (about 90 ms for an 8x8 faces grid on a small CPU); level 1
takes under half of that for files about 1.3x larger. Files inside Gradio's upload folder are served as they
are, without another copy.
"""
from __future__ import annotations

import itertools
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

from PIL import Image

MAX_AGE_S = 3600  # results older than this are deleted
SWEEP_EVERY = 200  # look for old results once per this many writes


class ResultStore:
    """Writes PIL images into ``folder`` as PNG files and deletes the ones older than MAX_AGE_S."""

    def __init__(self, folder: str | Path | None = None) -> None:
        upload = os.environ.get("GRADIO_TEMP_DIR") or str(Path(tempfile.gettempdir()) / "gradio")
        self.folder = Path(folder or Path(upload) / "mlvae-demo-results").resolve()
        self._count = itertools.count()
        self._lock = threading.Lock()

    def save(self, image: Image.Image) -> str:
        """Write ``image`` and return its path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{uuid.uuid4().hex}.png"
        tmp = path.with_suffix(".tmp")
        image.save(tmp, format="PNG", compress_level=1)
        os.replace(tmp, path)  # never a half-written file under the served name
        if next(self._count) % SWEEP_EVERY == 0:
            self.sweep()
        return str(path)

    def sweep(self, max_age_s: float = MAX_AGE_S) -> int:
        """Delete results older than ``max_age_s``; returns how many went."""
        if not self._lock.acquire(blocking=False):
            return 0
        try:
            cutoff, removed = time.time() - max_age_s, 0
            for path in self.folder.glob("*.png"):
                try:
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
                except OSError:
                    pass
            return removed
        finally:
            self._lock.release()
