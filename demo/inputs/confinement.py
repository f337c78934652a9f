"""Which files a request may name: only files inside the server's upload folders, by a path of bounded length
(a crafted API request could name any file on the server)."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

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
