"""A gallery's files -> the prepared photos a computation takes, each refused file named in a message."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .confinement import not_uploaded
from .decode_budget import BudgetSpent, decode_budget
from .preparation import Preparation
from .prepared_cache import prepare_cached


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
    with decode_budget():  # the pixels this gallery's photos may decode, in all (demo.inputs.decode_budget)
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


def shown_messages(problems: Sequence[str], notes: Sequence[str], limit: int = 4) -> list[str]:
    """What a tab says about its photos: the refused files' messages, then the notes on photos used (several faces,
    a small face), each newest first (the file just added is the gallery's last) and at most ``limit`` of each kind,
    the older ones named in one more line."""
    lines: list[str] = []
    for messages, older in ((problems, "could not be used"), (notes, "have notes")):
        newest = list(messages)[::-1]
        lines += newest[:limit]
        if len(newest) > limit:
            names = ", ".join(m.split(": ", 1)[0] for m in newest[limit:][::-1][:8])
            lines.append(f"... and {len(newest) - limit} earlier files {older} ({names}"
                         f"{', ...' if len(newest) - limit > 8 else ''})")
    return lines
