"""Publishing a trained run to the Hugging Face Hub: the folder it uploads, and the upload itself."""
from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from mlvae.checkpoint.card import CARD_NAME
from mlvae.checkpoint.folder import CONFIG_NAME, SPLIT_NAME, WEIGHTS_NAME, resolve_checkpoint
from mlvae.errors import CheckpointError

log = logging.getLogger(__name__)

UPLOADED = (CONFIG_NAME, WEIGHTS_NAME, SPLIT_NAME, CARD_NAME)


def export_for_hub(run_or_checkpoint: str | Path, dest: str | Path) -> Path:
    """Copy what a Hub repo holds (config, weights, split, model card, card figures) into ``dest``.

    ``run_or_checkpoint`` is a run folder (its ``best/`` is taken) or a checkpoint folder. The card is the
    checkpoint's ``README.md``, else the run folder's; the upload refuses to go without one.
    """
    source = resolve_checkpoint(run_or_checkpoint)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in UPLOADED:
        for folder in (source, Path(run_or_checkpoint)):
            if (folder / name).exists():
                shutil.copy2(folder / name, dest / name)
                break
    if not (dest / CARD_NAME).exists():
        raise CheckpointError(
            f"{source} has no {CARD_NAME} model card: write one (data, command, metrics) before publishing"
        )
    figures = source / "figures"
    if figures.is_dir():
        shutil.copytree(figures, dest / "figures", dirs_exist_ok=True)
    return dest


def push_run(run_or_checkpoint: str | Path, repo_id: str) -> str:
    """Upload a run's best checkpoint and card to ``repo_id`` (needs network and a token); returns the URL."""
    from huggingface_hub import HfApi

    with tempfile.TemporaryDirectory() as tmp:
        folder = export_for_hub(run_or_checkpoint, Path(tmp) / "upload")
        api = HfApi()
        try:
            api.create_repo(repo_id, exist_ok=True)
            commit = api.upload_folder(repo_id=repo_id, folder_path=str(folder),
                                       commit_message="Upload ML-VAE checkpoint")
        except Exception as exc:
            raise CheckpointError(
                f"upload to {repo_id} failed ({type(exc).__name__}: {exc}); check the network and `hf auth login`. "
                f"The folder to upload can be made with mlvae.checkpoint.hub.export_for_hub"
            ) from exc
    log.info("uploaded %s to %s", run_or_checkpoint, repo_id)
    return str(getattr(commit, "commit_url", repo_id))
