"""Errors whose message names the problem and what to do about it."""


class MLVAEError(Exception):
    """Base class: a problem the user can fix, with a message that says how."""


class DataError(MLVAEError):
    """A data folder or file cannot be used."""


class CheckpointError(MLVAEError):
    """A checkpoint cannot be loaded or written."""
