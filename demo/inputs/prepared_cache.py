"""Prepared uploads remembered by file content, so that a photo sent again is not decoded and searched anew."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

import torch

from mlvae import MLVAEError

from .decode_budget import BudgetSpent
from .preparation import Preparation, prepare_photo

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
