"""Where data folders are recorded: shipped files name them relative to $MLVAE_DATA_DIR (never a build machine's
absolute path), old checkpoints that hold absolute paths still load, and ``data_dir`` has one normal form."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors import safe_open

from mlvae import load_model
from mlvae.checkpoint.folder import SPLIT_NAME, write_json
from mlvae.config import DataConfig, data_dir_list, stored_data_dir
from mlvae.data import load_splits
from mlvae.data.loading import data_folder, data_folders, portable_name
from mlvae.evaluation.held_out import load_test_images
from tests.conftest import REPO

# a path that starts at the file-system root (/x/y, C:\x) and is not part of a URL, ~/..., $VAR/... or a/b
ABSOLUTE = re.compile(r"(?<![\w.:/~$}\]-])/[A-Za-z_][\w.-]*/[\w./-]*|\b[A-Za-z]:\\\w")
SHIPPED = ["README.md", "docs", "checkpoints", "demo/examples"]


def shipped_files() -> list[Path]:
    """Every file that ships with the repository's documentation, checkpoints and demo examples."""
    found = []
    for name in SHIPPED:
        path = REPO / name
        found += [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return found


def recorded_strings(path: Path) -> list[str]:
    """The text a file records: a text file's lines, a PNG's text chunks, a safetensors file's metadata."""
    if path.suffix == ".png":
        with Image.open(path) as image:
            return [f"{k}: {v}" for k, v in image.info.items() if isinstance(v, str)]
    if path.suffix == ".safetensors":
        with safe_open(str(path), "pt") as handle:
            return [f"{k}: {v}" for k, v in (handle.metadata() or {}).items()]
    return path.read_text(encoding="utf-8").splitlines()


def json_strings(value) -> list[str]:
    """Every string in a JSON value, however deep."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in json_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in json_strings(v)]
    return [value] if isinstance(value, str) else []


def test_the_checker_finds_absolute_paths_and_passes_urls_and_relative_ones():
    for text in ("data_dir: /work/shared/data/faces-lfw", '"/home/me/x"', "--out /tmp/eval", "(/srv/a.png)",
                 r"C:\Users\me"):
        assert ABSOLUTE.search(text), text
    for text in ("https://huggingface.co/spaces/a/b", "$MLVAE_DATA_DIR/faces-lfw", "~/.cache/mlvae", "runs/faces/best",
                 "80 / 10 / 10%", "images/s", "[`a/b`](figures/c.png)", "${HOME}/x"):
        assert not ABSOLUTE.search(text), text


def test_no_shipped_file_holds_an_absolute_path():
    files = shipped_files()
    assert any(p.suffix == ".png" for p in files) and any(p.name == SPLIT_NAME for p in files)
    found = []
    for path in files:
        for line in recorded_strings(path):
            found += [f"{path.relative_to(REPO)}: {m.group()}" for m in ABSOLUTE.finditer(line)]
        if path.suffix == ".json":
            strings = json_strings(json.loads(path.read_text()))
            found += [f"{path.relative_to(REPO)}: {s}" for s in strings if Path(s).is_absolute()]
    assert not found, found


def test_data_dir_has_one_normal_form():
    for stored, dirs in ((None, []), ("a", ["a"]), (["a", "b"], ["a", "b"])):
        assert data_dir_list(stored) == dirs and stored_data_dir(dirs) == stored
        assert DataConfig(dataset="folder", data_dir=stored).data_dirs == dirs
    assert data_dir_list(Path("x") / "y") == [str(Path("x") / "y")] and stored_data_dir(["only"]) == "only"
    assert DataConfig(data_dir="a").with_data_dirs([Path("b"), "c"]).data_dir == ["b", "c"]


def test_recorded_names_resolve_under_the_data_root(tmp_path, monkeypatch):
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    (root / "faces").mkdir(parents=True)
    (elsewhere / "local").mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("MLVAE_DATA_DIR", str(root))
    assert data_folder("faces") == root / "faces"  # not found from here: under the data root
    assert data_folder("local") == Path("local")  # found from here: as given, as before
    assert data_folder(str(tmp_path / "gone")) == tmp_path / "gone"  # absolute: as recorded
    assert portable_name(root / "faces") == "faces" and portable_name("faces") == "faces"
    assert portable_name(tmp_path / "elsewhere" / "local") == "local"  # outside the root: its name only
    monkeypatch.delenv("MLVAE_DATA_DIR")
    assert data_folder("faces") == Path("faces")


def photo_folders(root: Path) -> Path:
    """A folder dataset of 10 groups of 3 small pictures under ``root``."""
    source = root / "people"
    for group in range(10):
        (source / f"p{group}").mkdir(parents=True)
        for i in range(3):
            pixels = torch.randint(0, 256, (12, 12, 3), generator=torch.Generator().manual_seed(group * 3 + i))
            Image.fromarray(pixels.to(torch.uint8).numpy()).save(source / f"p{group}" / f"{i}.png")
    return source


def test_old_absolute_and_new_relative_records_read_the_same_test_images(tmp_path, monkeypatch, caplog):
    source = photo_folders(tmp_path / "data")
    config = DataConfig(dataset="folder", data_dir=str(source), image_size=8, image_channels=3)
    record = load_splits(config).record
    old, new = tmp_path / "old", tmp_path / "new"
    write_json(old / SPLIT_NAME, record)  # as training writes it: the absolute path
    write_json(new / SPLIT_NAME, {**record, "data_dir": "people"})  # as a shipped checkpoint records it
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVAE_DATA_DIR", str(tmp_path / "data"))
    relative = config.with_data_dirs(["people"])
    assert data_folders(relative) == [source]
    before = load_test_images(old, config)
    after = load_test_images(new, relative)
    assert torch.equal(before.images, after.images)
    assert before.group_names == after.group_names == record["groups"]["test"]
    load_test_images(new, relative, all_groups=True)  # the training folder, however it is spelt
    assert "were seen in training" in caplog.text
    monkeypatch.delenv("MLVAE_DATA_DIR")
    with pytest.raises(Exception, match="set MLVAE_DATA_DIR"):
        load_test_images(new, relative)


def test_the_shipped_faces_checkpoint_names_its_folders_relative_to_the_data_root():
    _, config = load_model("faces")
    assert config.data.data_dirs == ["faces-celeba200", "faces-lfw"]
    split = json.loads((REPO / "checkpoints" / "faces" / SPLIT_NAME).read_text())
    assert split["data_dir"] == config.data.data_dir
    assert {name.split("/")[0] for name in split["groups"]["test"]} == set(config.data.data_dirs)
