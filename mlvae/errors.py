"""Errors whose message names the problem and what to do about it."""
from __future__ import annotations

import logging


class MLVAEError(Exception):
    """Base class: a problem the user can fix, with a message that says how."""


class DataError(MLVAEError):
    """A data folder or file cannot be used."""


class CheckpointError(MLVAEError):
    """A checkpoint cannot be loaded or written."""


def path_problem(exc: OSError) -> str:
    """A file system error as a message naming the path (shortened when very long) and what to do."""
    name = str(exc.filename or "")
    shown = name if len(name) <= 120 else f"{name[:60]}...{name[-40:]} ({len(name)} characters)"
    return (f"cannot use {shown}: {exc.strerror or exc}; give a shorter path, one that exists, or one you may "
            "write to")


def exit_code_of(exc: BaseException, log: logging.Logger, interrupted: str) -> int:
    """A command line stopped by ``exc`` (an MLVAEError, an OSError, Ctrl-C): log what to do, return the exit code
    (2; 130 on Ctrl-C, logging ``interrupted``)."""
    if isinstance(exc, KeyboardInterrupt):
        log.error("%s", interrupted)
        return 130
    if isinstance(exc, OSError):  # a path too long, unwritable or missing: the path and what to do, not a traceback
        log.error("%s", path_problem(exc))
        return 2
    log.error("%s", exc)
    return 2
