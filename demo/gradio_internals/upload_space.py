"""The disk that uploads (``/gradio_api/upload``) may take: Gradio writes every file it is sent and keeps it for an
hour, so 600 MB went in within 4 s, with no session. Here:

- each sender has a byte budget (``ByteBudgets``): ``UPLOAD_BYTES_PER_MINUTE`` at once, refilled at that rate; the
  sender is the page whose token the request carries (``page_tokens``), else the client's address, so a client that
  floods from a shared address does not spend the strangers' budgets; a request costs at least ``MIN_UPLOAD_COST``;
- the upload folder holds at most ``UploadSpace.cap`` bytes (``DEFAULT_CAP_MB``, or ``$MLVAE_UPLOAD_CAP_MB``): an
  upload that would take it past the cap first sweeps the oldest uploads that no event used, then the oldest used
  ones, and is refused when that cannot make room;
- an upload that no event used within ``UNUSED_S`` is deleted (the sweep runs at most ``SWEEP_EVERY_S`` apart).

An upload's size is the request's declared length (``Content-Length``, required), reserved before Gradio reads the
body. An event uses an upload when a request names its path (``DemoBlocks.preprocess_data`` calls ``use``).
"""
from __future__ import annotations

import os
import shutil
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

UPLOAD_BYTES_PER_MINUTE = 200 << 20  # per sender: a gallery of 64 camera photos of ~3 MB
MIN_UPLOAD_COST = 64 << 10  # what a request costs at least (a flood of tiny files is counted too)
DEFAULT_CAP_MB = 4096  # the upload folder's total, results and examples Gradio copies there included
CAP_ENV_VAR = "MLVAE_UPLOAD_CAP_MB"
UNUSED_S = 300  # an upload no event used is deleted after this many seconds
SWEEP_EVERY_S = 30
RECOUNT_EVERY_S = 2.0  # the folder is counted again (a walk) at most this often when an upload would pass the cap
MAX_SENDERS = 10_000  # senders whose budgets are tracked at once, the least recently seen forgotten first
MAX_TRACKED = 100_000  # uploads tracked (path, size, times): ~300 bytes each


def cap_from_env() -> int:
    """The upload folder's cap in bytes: ``$MLVAE_UPLOAD_CAP_MB`` or ``DEFAULT_CAP_MB``."""
    text = os.environ.get(CAP_ENV_VAR, "").strip()
    megabytes = int(text) if text.isdigit() and int(text) > 0 else DEFAULT_CAP_MB
    return megabytes << 20


class ByteBudgets:
    """A byte budget per sender: ``per_minute`` at once, refilled at ``per_minute`` a minute (a token bucket)."""

    def __init__(self, per_minute: int = UPLOAD_BYTES_PER_MINUTE, senders: int = MAX_SENDERS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self.senders, self.clock = per_minute, senders, clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, sender: str, size: int) -> bool:
        """Take ``size`` bytes from ``sender``'s budget; False (nothing taken) when it holds less."""
        now = self.clock()
        left, then = self.buckets.pop(sender, (float(self.per_minute), now))
        left = min(float(self.per_minute), left + (now - then) * self.per_minute / 60)
        taken = size <= left
        self.buckets[sender] = (left - size * taken, now)
        if len(self.buckets) > self.senders:
            self.buckets.popitem(last=False)
        return taken


def folder_bytes(folder: Path) -> int:
    """The bytes of the files under ``folder`` (0 when it does not exist)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:  # deleted meanwhile
                pass
    return total


class UploadSpace:
    """The upload folder's uploads, their use, and the room left under its cap."""

    def __init__(self, folder: Path, cap: int, unused_s: float = UNUSED_S, sweep_every_s: float = SWEEP_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.folder, self.cap, self.clock = folder, cap, clock
        self.unused_s, self.sweep_every_s = unused_s, sweep_every_s
        self.uploads: OrderedDict[str, tuple[int, float | None]] = OrderedDict()  # path -> (bytes, last used)
        self.added: dict[str, float] = {}  # path -> when it was uploaded
        self.reserved = 0  # bytes of uploads being received
        self.deleted: list[str] = []  # paths swept since Gradio's own record of them was last trimmed
        self.held = folder_bytes(folder)  # bytes in the folder at the last count, plus uploads since
        self.swept_at = self.counted_at = clock()

    def reserve(self, size: int) -> bool:
        """Room for an upload of at most ``size`` bytes, made by sweeping if needed; False when none can be made."""
        self.sweep_if_due()
        if self.held + self.reserved + size > self.cap:
            if self.clock() - self.counted_at >= RECOUNT_EVERY_S:  # results written meanwhile, files Gradio deleted
                self.held, self.counted_at = folder_bytes(self.folder), self.clock()
            self.make_room(self.held + self.reserved + size - self.cap)
        if self.held + self.reserved + size > self.cap:
            return False
        self.reserved += size
        return True

    def received(self, size: int, paths: Iterable[str]) -> None:
        """An upload reserved with ``size`` has ended; ``paths``: the files Gradio wrote for it."""
        self.reserved -= size
        now = self.clock()
        for path in paths:
            try:
                written = os.lstat(path).st_size
            except OSError:
                continue
            path = os.path.normpath(path)
            self.uploads.pop(path, None)
            self.uploads[path], self.added[path] = (written, None), now
            self.held += written
        while len(self.uploads) > MAX_TRACKED:
            self.delete(next(iter(self.uploads)))

    def use(self, paths: Iterable[str]) -> None:
        """Events named these paths: kept (until Gradio's hourly sweep, or the cap needs the room)."""
        now = self.clock()
        for path in map(os.path.normpath, paths):
            if path in self.uploads:
                self.uploads[path] = (self.uploads[path][0], now)

    def sweep_if_due(self) -> list[str]:
        """Delete the uploads no event used within ``unused_s`` (at most every ``sweep_every_s``); their paths."""
        now = self.clock()
        if now - self.swept_at < self.sweep_every_s:
            return []
        self.swept_at = now
        stale = [p for p, (_, used) in self.uploads.items() if used is None and now - self.added[p] > self.unused_s]
        for path in stale:
            self.delete(path)
        self.held, self.counted_at = folder_bytes(self.folder), now
        return stale

    def make_room(self, needed: int) -> list[str]:
        """Delete uploads until ``needed`` bytes are freed: the oldest unused first, then the oldest used (none when
        all of them would not free enough); their paths."""
        if needed > sum(size for size, _ in self.uploads.values()):
            return []  # sweeping every upload would not make the room: none is swept in vain
        order = sorted(self.uploads, key=lambda p: (self.uploads[p][1] is not None, self.added[p]))
        deleted = []
        for path in order:
            if needed <= 0:
                break
            needed -= self.uploads[path][0]
            self.delete(path)
            deleted.append(path)
        return deleted

    def delete(self, path: str) -> None:
        """Remove an upload's file (and its folder, which Gradio made for it, when empty) and forget it."""
        size, _ = self.uploads.pop(path, (0, None))
        self.added.pop(path, None)
        self.deleted.append(path)
        del self.deleted[:-MAX_TRACKED]
        try:
            os.unlink(path)
            self.held -= size
            parent = Path(path).parent
            if parent != self.folder and parent.parent == self.folder and not any(parent.iterdir()):
                shutil.rmtree(parent, ignore_errors=True)
        except OSError:
            pass


_shared: list[UploadSpace] = []


def shared_space() -> UploadSpace:
    """This process's upload space: Gradio's upload folder, capped by ``cap_from_env``."""
    if not _shared:
        from gradio.utils import get_upload_folder

        folder = Path(get_upload_folder()).resolve()
        _shared.append(UploadSpace(folder, cap_from_env()))
    return _shared[0]
