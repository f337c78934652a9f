"""Hostile or mistaken arguments of the training and evaluation command lines (issue 26's third round): each gets
a message naming the problem and what to do, never a traceback; a corrupt aligned-crop cache entry is re-made."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import run_cli


def assert_message(result, words: str, what: str) -> None:
    """A failed run that logged ``words`` and no traceback."""
    assert result.returncode == 2, f"{what}: exit {result.returncode}\n{result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr, f"{what}:\n{result.stderr[-2000:]}"
    assert words in result.stderr, f"{what}: {result.stderr[-1000:]}"


def checkpoint_copy(kind: str, folder: Path, split: str | None = None, **data: object) -> Path:
    """A copy of a shipped checkpoint (weights linked), with ``split.json`` and data settings replaced."""
    from mlvae.checkpoint.folder import SHIPPED_DIR

    source = SHIPPED_DIR / kind
    if not (source / "config.json").exists():
        pytest.skip(f"needs the shipped {kind} checkpoint")
    folder.mkdir()
    config = json.loads((source / "config.json").read_text())
    config["data"].update(data)
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "model.safetensors").symlink_to(source / "model.safetensors")
    (folder / "split.json").write_text(split if split is not None else (source / "split.json").read_text())
    return folder


@pytest.mark.parametrize("split, words", [
    ("[" * 100_000 + "]" * 100_000, "nests too deeply to be a split record"),
    ("[]", "a JSON object was expected, not list"),
    ('{"groups": 5}', "groups must map each part"),
])
def test_a_bad_split_record_is_named(tmp_path, split, words):
    from mlvae import CheckpointError
    from mlvae.checkpoint.folder import find_split

    folder = checkpoint_copy("mnist", tmp_path / "ckpt", split)
    with pytest.raises(CheckpointError, match=words) as refused:
        find_split(folder)
    assert "split.json" in str(refused.value) and "restore it" in str(refused.value)


def test_training_flags_that_cannot_work_get_messages(shared_data, tmp_path):
    out = str(tmp_path / "run")
    cases = {
        "--align-faces on mnist": (["--dataset", "mnist", "--align-faces", "--out", out],
                                   "--align-faces finds faces in the photos of a folder dataset"),
        "--init-from ''": (["--dataset", "mnist", "--init-from", "", "--out", out], "--init-from needs a checkpoint"),
        "a 5,000-character --data-dir": (["--dataset", "folder", "--data-dir", "d" * 5000, "--out", out],
                                         "(5000 characters): File name too long"),
        "a 300-character --out name": (["--dataset", "mnist", "--out", str(tmp_path / ("n" * 300))],
                                       "File name too long"),
    }
    for what, (args, words) in cases.items():
        assert_message(run_cli("mlvae.train", *args, "--epochs", "1", timeout=300), words, what)


def test_face_network_flags_that_cannot_work_get_messages(tmp_path):
    (tmp_path / "a-file").write_text("x")
    out = str(tmp_path / "net")
    cases = {
        "--lr nan": (["--lr", "nan", "--out", out], "--lr must be a positive number, got nan"),
        "--lr -1": (["--lr", "-1", "--out", out], "--lr must be a positive number, got -1.0"),
        "--lr inf": (["--lr", "inf", "--out", out], "--lr must be a positive number, got inf"),
        "--threads 0": (["--threads", "0", "--out", out], "--threads must be at least 1"),
        # a folder cannot be made inside a file, whoever runs it (root included): refused before any training
        "an unwritable --out": (["--out", str(tmp_path / "a-file" / "net")], "cannot write to the output folder"),
    }
    for what, (args, words) in cases.items():
        result = run_cli("mlvae.face_features", "faces", *args, "--epochs", "1", timeout=120)
        assert_message(result, words, what)
        assert len([line for line in result.stderr.splitlines() if "ERROR" in line]) == 1, (what, result.stderr)
    assert not (tmp_path / "net").exists()


def test_training_from_a_checkpoint_with_a_bad_split_record_is_refused(shared_data, tmp_path):
    folder = checkpoint_copy("mnist", tmp_path / "ckpt", "[]")
    result = run_cli("mlvae.train", "--dataset", "mnist", "--init-from", str(folder), "--epochs", "1",
                     "--max-train-images", "200", "--max-val-images", "100", "--out", str(tmp_path / "run"),
                     timeout=600)
    assert_message(result, "is not a split record (a JSON object was expected, not list)", "--init-from, split []")


def test_evaluation_with_an_unusable_path_gets_a_message(shared_data, tmp_path):
    long_dir = checkpoint_copy("faces", tmp_path / "long-dir", data_dir="d" * 5000)
    result = run_cli("mlvae.evaluate", str(long_dir), "--quick", "--out", str(tmp_path / "o"), timeout=300)
    assert_message(result, "File name too long", "a 5,000-character data_dir in config.json")
    (tmp_path / "a-file").write_text("x")
    unwritable = tmp_path / "a-file" / "out"  # a folder cannot be made there, whoever runs it (root included)
    result = run_cli("mlvae.evaluate", "mnist", "--quick", "--out", str(unwritable), timeout=300)
    assert_message(result, "cannot use", "an unwritable --out")


def test_a_corrupt_aligned_crop_is_made_again(shared_data, tmp_path):
    from mlvae.data.faces import AlignmentCache
    from mlvae.data.images import open_image, to_model_mode
    from tests.demo_server import FACES

    photo = next(p for p in sorted((shared_data / FACES).rglob("*")) if p.is_file())
    cache = AlignmentCache(64, root=tmp_path / "cache")
    load = lambda p: to_model_mode(open_image(p), 3)  # noqa: E731
    good = cache.get(photo, load)
    entry = next((tmp_path / "cache").rglob("*.png"))
    for corrupt in (entry.read_bytes()[:100], _png(32)):  # truncated, then a crop of the wrong size
        entry.write_bytes(corrupt)
        again = cache.get(photo, load)
        assert again.size == (64, 64) and np.array_equal(np.asarray(again), np.asarray(good))
        assert Image.open(entry).size == (64, 64)


def _png(side: int) -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", (side, side)).save(buf, "PNG")
    return buf.getvalue()


def test_split_shape_check_accepts_the_shipped_records():
    from mlvae.checkpoint.folder import SHIPPED_DIR, split_problem

    for kind in ("mnist", "faces"):
        path = SHIPPED_DIR / kind / "split.json"
        if path.exists():
            assert split_problem(json.loads(path.read_text())) is None, kind
