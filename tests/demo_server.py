"""The real demo app for tests: tiny stand-in models when the shipped checkpoints are missing, the app started
on a free loopback port, and gradio_client helpers. Inputs are real photos from $MLVAE_DATA_DIR."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from mlvae import ModelConfig
from mlvae.config import DataConfig, RunConfig, TrainConfig

REPO = Path(__file__).resolve().parent.parent
FACES = "faces-celeba200"
APP_START_TIMEOUT = 180


def train_tiny(kind: str, splits, out: Path) -> Path:
    """A tiny ``mnist`` or ``faces`` model trained for seconds on ``splits``; returns its run folder."""
    from mlvae.training.trainer import Trainer

    if kind == "mnist":
        model = ModelConfig(hidden_dim=128)
        data = DataConfig(dataset="mnist")
        train = TrainConfig(epochs=1, max_train_images=6000, max_val_images=500, device="cpu")
    else:
        model = ModelConfig(architecture="conv", latent_dim=16, width=0.125)
        data = DataConfig(dataset="folder", image_size=64, image_channels=3, crop_fraction=0.8)
        # small batches and a higher rate: enough steps in seconds for the decoder to use the content
        train = TrainConfig(epochs=2, groups_per_batch=8, lr=2e-3, device="cpu")
    Trainer(RunConfig(model=model, data=data, train=train), splits, out).fit()
    return out


def face_photos(face_dir: Path, people: int, per_person: int) -> list[list[str]]:
    """Real photos: ``per_person`` of each of ``people`` identities (the last ones: held out of tiny training)."""
    folders = sorted(p for p in face_dir.iterdir() if p.is_dir())[-people:]
    return [[str(f) for f in sorted(folder.iterdir())[:per_person]] for folder in folders]


def distinct_face_photos(face_dir: Path, people: int, count: int = 8) -> list[list[str]]:
    """``count`` different photos each of ``people`` people, each with a face found in it as a photo-like webcam
    frame (``tests.demo_page.camera_frame``): the last people of the folder with that many (held out of the tiny
    models' training); a copy of a photo (the dataset holds a few) is left out."""
    from mlvae.data.faces import NoFaceError, align_face
    from tests.demo_page import camera_frame

    chosen = []
    for photos in reversed(face_photos(face_dir, 60, 30)):
        kept, thumbs = [], []
        for photo in photos:
            thumb = np.asarray(Image.open(photo).convert("L").resize((32, 32)), dtype=np.float32)
            if any(np.abs(thumb - seen).mean() < 10 for seen in thumbs):
                continue
            thumbs.append(thumb)
            try:
                align_face(camera_frame(photo), 64)
            except NoFaceError:
                continue
            kept.append(photo)
            if len(kept) == count:
                chosen.append(kept)
                break
        if len(chosen) == people:
            return chosen
    raise AssertionError(f"fewer than {people} people with {count} photos in which a face is found")


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(model_args: list[str], log_path: Path, env: dict[str, str] | None = None,
                command: Sequence[str] = (sys.executable, "app.py"), cwd: Path = REPO) -> Iterator[str]:
    """``python app.py`` (or ``command``, run in ``cwd``) on a free loopback port, its output in ``log_path``;
    yields its URL, stops it after."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "GRADIO_ANALYTICS_ENABLED": "False", "MLVAE_MODELS": "",
           "HF_HUB_OFFLINE": "1", **(env or {})}
    with open(log_path, "w") as log:
        proc = subprocess.Popen([*command, *model_args, "--host", "127.0.0.1", "--port", str(port)],
                                cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + APP_START_TIMEOUT
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the app did not start on {url}:\n{log_path.read_text()[-3000:]}") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def gallery(paths) -> list[dict]:
    """A Gallery value for gradio_client: the files are uploaded with the request."""
    from gradio_client import handle_file

    return [{"image": handle_file(str(p)), "caption": None} for p in paths]


def load(path: str) -> np.ndarray:
    """A result image as int16 (H, W, 3), so that differences do not wrap around."""
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)
