"""Shared fixtures (real data from $MLVAE_DATA_DIR, small models) and the test tiers.

Markers (registered in pyproject.toml), applied here so that no test has to remember them: ``data`` for a test
that reads $MLVAE_DATA_DIR;
``slow`` for one that starts a subprocess or server, trains a model for more than a few seconds, or measures a
shipped checkpoint.
``python -m pytest tests -m "not slow"`` is the fast tier; CI runs every test.
"""
from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import pytest
import torch

from mlvae import MLVAE, ModelConfig
from mlvae.config import DataConfig

REPO = Path(__file__).resolve().parent.parent

# fixtures that need the shared data folder
DATA_FIXTURES = {"shared_data"}
# fixtures that start a server or browser, train for more than a few seconds, or load a shipped checkpoint's test
# set (tiny_mnist_runs trains two models in seconds: the fast tier keeps the tests of the latent operations)
SLOW_FIXTURES = {
    "server", "client", "app", "browser",  # the demo app in a subprocess, a headless browser
    "model_args", "cropping_model_args", "runs", "two_ranks", "judge",  # training
    "faces_test_set",  # the shipped faces model and its aligned test photos
}
# in the code of a test, of its module's functions it calls or of its fixtures: it starts a subprocess, or trains
# (a Trainer's fit, or the training CLI in-process with a run that succeeds)
SLOW_CODE = re.compile(r"run_cli\(|subprocess|Trainer\(|\.fit\(|train_in_process\((?:[^()]|\([^()]*\))*\)\s*==\s*0")
# trains two models in seconds: the latent operations' tests stay fast
FAST_FIXTURES = {"tiny_mnist_runs", "mnist_splits"}
# whole files: packaging (pip install), the GPU check's dry run, shipped checkpoints, face-training runs
SLOW_FILES = {"test_packaging.py", "test_gpu_check.py", "test_shipped_checkpoints.py", "test_faces_training.py"}


def is_slow(item: pytest.Item) -> bool:
    """Whether a test belongs to the slow tier (see the module docstring)."""
    if Path(str(item.fspath)).name in SLOW_FILES or SLOW_FIXTURES & set(item.fixturenames):
        return True
    function = getattr(item, "function", None)
    return function is not None and bool(SLOW_CODE.search(own_code(item, function)))


def own_code(item: pytest.Item, function) -> str:
    """The source of a test, of the functions of its module that it calls (e.g. a helper that starts a process) and
    of the fixtures it uses (but ``FAST_FIXTURES``)."""
    module = inspect.getmodule(function)
    helpers = [getattr(module, name, None) for name in function.__code__.co_names]
    helpers = [f for f in helpers if inspect.isfunction(f) and f.__module__ == function.__module__]
    fixtures = [d.func for name, defs in item._fixtureinfo.name2fixturedefs.items() if name not in FAST_FIXTURES
                for d in defs if inspect.isfunction(d.func) and Path(inspect.getfile(d.func)).parent == REPO / "tests"]
    return "".join(inspect.getsource(f) for f in [function, *helpers, *fixtures])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if DATA_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.data)
        if is_slow(item):
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(scope="session")
def faces_test_set(shared_data):
    """The shipped faces model, its config and its test photos (CelebA and LFW people it never saw), aligned once."""
    from mlvae import load_model
    from mlvae.checkpoint.folder import resolve_checkpoint
    from mlvae.evaluation.held_out import load_test_images

    model, config = load_model("faces")  # its folders are named relative to $MLVAE_DATA_DIR
    return model, config, load_test_images(resolve_checkpoint("faces"), config.data)
