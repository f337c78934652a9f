"""Checkpoint downloads from the Hugging Face Hub: the sizes the Hub lists for a repo's files are checked against
the limits of each file before anything is downloaded, and the download is pinned to the commit checked."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from mlvae.errors import CheckpointError


def oversized_files(sizes: Iterable[tuple[str, int | None]], limits: Mapping[str, int]) -> str | None:
    """A message naming each file of ``limits`` that ``sizes`` (file name, bytes) lists over its limit or
    without a size; None when every one fits (files not in ``limits`` are not downloaded, so not checked)."""
    problems = []
    for name, size in sizes:
        limit = limits.get(name)
        if limit is None:
            continue
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            problems.append(f"{name} (its size is not listed)")
        elif size > limit:
            problems.append(f"{name} ({size / (1 << 20):,.1f} MB, over the {limit / (1 << 20):,.1f} MB allowed)")
    if not problems:
        return None
    return (f"refused before downloading: {'; '.join(problems)}; "
            "download a checkpoint whose files are within the limits, or give a local checkpoint folder")


def fetch_failed(repo_id: str, exc: Exception) -> CheckpointError:
    """The message of a Hub request that failed (no network, no such repo)."""
    return CheckpointError(f"could not fetch {repo_id!r} from the Hugging Face Hub ({type(exc).__name__}: {exc}); "
                           "check the repo id and the network, or give a local checkpoint folder")


def download_checkpoint(repo_id: str, limits: Mapping[str, int]) -> Path:
    """The top-level files named in ``limits`` of the Hub repo ``repo_id``, in a local folder; CheckpointError
    naming a file over its limit (checked from the Hub's listing, before the download) or what failed."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return cached_checkpoint(repo_id, limits)
    try:
        from huggingface_hub import HfApi, snapshot_download

        info = HfApi().model_info(repo_id, files_metadata=True)
    except Exception as exc:
        raise fetch_failed(repo_id, exc) from exc
    problem = oversized_files(((s.rfilename, s.size) for s in info.siblings or []), limits)
    if problem:
        raise CheckpointError(f"{repo_id}: {problem}")
    try:
        # the commit whose sizes were checked; the checkpoint's own files only, at its top level (a pattern like
        # *.json would match nested files)
        return Path(snapshot_download(repo_id=repo_id, revision=info.sha, allow_patterns=list(limits)))
    except Exception as exc:
        raise fetch_failed(repo_id, exc) from exc


def cached_checkpoint(repo_id: str, limits: Mapping[str, int]) -> Path:
    """Offline (``HF_HUB_OFFLINE``): the Hub cache's snapshot of ``repo_id``, nothing downloaded; CheckpointError
    naming a cached file over its limit, or what failed."""
    try:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(repo_id=repo_id, allow_patterns=list(limits)))
    except Exception as exc:
        raise fetch_failed(repo_id, exc) from exc
    problem = oversized_files(((f.name, f.stat().st_size) for f in folder.iterdir() if f.is_file()), limits)
    if problem:
        raise CheckpointError(f"{repo_id}: {problem.replace('before downloading', 'from the Hub cache')}")
    return folder
