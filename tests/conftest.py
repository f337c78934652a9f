"""Shared fixtures: real data from $MLVAE_DATA_DIR, small models."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from mlvae import MLVAE, ModelConfig
from mlvae.config import DataConfig

REPO = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The shared data folder, or a visible skip saying how to provide it."""
    value = os.environ.get("MLVAE_DATA_DIR")
    if not value or not Path(value).is_dir():
        pytest.skip("needs real data: set MLVAE_DATA_DIR to the shared data folder (.ci/run does)")
    return Path(value)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return data_dir()


@pytest.fixture(scope="session")
def mnist_splits(shared_data):
    from mlvae.data import load_splits

    return load_splits(DataConfig(dataset="mnist"))


@pytest.fixture
def mlp_model() -> MLVAE:
    torch.manual_seed(0)
    return MLVAE(ModelConfig(latent_dim=4, hidden_dim=32))


def run_cli(module: str, *args: str, cwd: Path | None = None, timeout: int = 600, env: dict | None = None):
    """Run ``python -m module args`` in a subprocess (``env``: extra variables); returns CompletedProcess with
    text output."""
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd or REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def face_dir(shared_data) -> Path:
    """Real CelebA photos, one folder per identity."""
    from tests.demo_server import FACES

    folder = shared_data / FACES
    if not folder.is_dir():
        pytest.fail(f"{folder} is missing: the demo tests need the real face photos in $MLVAE_DATA_DIR/{FACES}")
    return folder


def tiny_run(kind: str, face_dir: Path, mnist_splits, tmp_path_factory) -> Path:
    """A tiny ``faces`` (centre-cropped, not aligned) or ``mnist`` run folder trained on real data in seconds."""
    from mlvae.data import load_splits
    from tests.demo_server import train_tiny

    out = tmp_path_factory.mktemp("runs") / kind
    if kind == "mnist":
        splits = mnist_splits
    else:
        subset = tmp_path_factory.mktemp("faces-subset")  # 24 identities, linked, not copied
        for folder in sorted(p for p in face_dir.iterdir() if p.is_dir())[:24]:
            (subset / folder.name).symlink_to(folder, target_is_directory=True)
        splits = load_splits(DataConfig(dataset="folder", data_dir=str(subset), image_size=64,
                                        image_channels=3, crop_fraction=0.8))
    torch.manual_seed(0)
    return train_tiny(kind, splits, out)


@pytest.fixture(scope="session")
def model_args(shared_data, face_dir, mnist_splits, tmp_path_factory) -> list[str]:
    """``--model`` arguments for the demo app: none for shipped checkpoints, tiny run folders (named ``faces``
    and ``mnist``, trained on real data in seconds) for missing ones."""
    from mlvae.checkpoint.folder import CONFIG_NAME, SHIPPED_DIR

    args: list[str] = []
    for kind in ("faces", "mnist"):  # faces first: the default model, as when both are shipped
        if not (SHIPPED_DIR / kind / CONFIG_NAME).exists():
            args += ["--model", str(tiny_run(kind, face_dir, mnist_splits, tmp_path_factory))]
    return args


@pytest.fixture(scope="session")
def cropping_model_args(shared_data, face_dir, mnist_splits, tmp_path_factory) -> list[str]:
    """App arguments for a ``faces`` model that centre-crops instead of aligning faces (a tiny one) and the digits
    model: for tests of image decoding, whose synthetic pictures hold no face for an aligning model to find."""
    from mlvae.checkpoint.folder import CONFIG_NAME, SHIPPED_DIR

    digits = SHIPPED_DIR / "mnist"
    digits = digits if (digits / CONFIG_NAME).exists() else tiny_run("mnist", face_dir, mnist_splits, tmp_path_factory)
    return ["--no-shipped", "--model", str(tiny_run("faces", face_dir, mnist_splits, tmp_path_factory)),
            "--model", str(digits)]


@pytest.fixture(scope="session")
def tiny_mnist_runs(mnist_splits, tmp_path_factory) -> dict[str, Path]:
    """Run folders of an ML-VAE and a plain VAE trained for one epoch on 4000 real MNIST images (seconds)."""
    from mlvae.config import RunConfig, TrainConfig
    from mlvae.training.trainer import Trainer

    runs = {}
    for model_type in ("mlvae", "vae"):
        out = tmp_path_factory.mktemp(f"tiny-{model_type}")
        config = RunConfig(
            model=ModelConfig(model_type=model_type, hidden_dim=64),
            train=TrainConfig(epochs=1, max_train_images=4000, max_val_images=500, device="cpu"),
        )
        Trainer(config, mnist_splits, out).fit()
        runs[model_type] = out
    return runs
