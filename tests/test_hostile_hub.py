"""Hub downloads: each file's size, as the Hub lists it, is checked against its limit before anything is
downloaded. The Hub cannot be reached here, so the check is tested as a pure function over (file name, size)
pairs, and the download path with the Hub's two calls replaced by fakes that record what was asked."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from mlvae.checkpoint.card import MAX_CARD_BYTES
from mlvae.checkpoint.folder import HUB_FILES, hub_limits, resolve_checkpoint
from mlvae.checkpoint.hub_download import oversized_files
from mlvae.errors import CheckpointError

MB = 1 << 20


def test_files_within_their_limits_pass_and_others_are_not_checked():
    limits = hub_limits()
    assert set(limits) == set(HUB_FILES)
    sizes = [("config.json", 2_000), ("model.safetensors", 80 * MB), ("README.md", 25_000), ("split.json", 300_000),
             ("pytorch_model.bin", 10 << 30), ("nested/model.safetensors", 10 << 30)]  # never downloaded
    assert oversized_files(sizes, limits) is None


@pytest.mark.parametrize(("name", "size", "shown"), [
    ("README.md", 47 * MB, r"README\.md \(47\.0 MB, over the 0\.2 MB allowed\)"),  # the attack's 47 MB card
    ("model.safetensors", 20 << 30, r"model\.safetensors \(20,480\.0 MB, over the 1,5\d\d\.\d MB allowed\)"),
    ("config.json", 2 * MB, r"config\.json \(2\.0 MB, over the 1\.0 MB allowed\)"),
    ("split.json", 17 * MB, r"split\.json \(17\.0 MB, over the 16\.0 MB allowed\)"),
    ("model.safetensors", None, r"model\.safetensors \(its size is not listed\)"),
])
def test_a_file_over_its_limit_is_named_with_its_size_and_the_limit(name, size, shown):
    message = oversized_files([("config.json", 2_000), (name, size)], hub_limits())
    assert message is not None and re.search(shown, message), message
    assert "refused before downloading" in message and "local checkpoint folder" in message


def fake_hub(monkeypatch, siblings: list[tuple[str, int | None]]) -> list[dict]:
    """The Hub's listing replaced by ``siblings``; returns the snapshot_download calls made."""
    import huggingface_hub
    from huggingface_hub import constants

    downloads: list[dict] = []

    def model_info(self, repo_id, **kwargs):
        assert kwargs.get("files_metadata") is True
        return SimpleNamespace(sha="c0ffee", siblings=[SimpleNamespace(rfilename=n, size=s) for n, s in siblings])

    def snapshot_download(**kwargs):
        downloads.append(kwargs)
        return "/nonexistent/snapshot"

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # CI runs with HF_HUB_OFFLINE=1
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", model_info)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    return downloads


def test_an_oversized_card_is_refused_before_anything_is_downloaded(monkeypatch):
    downloads = fake_hub(monkeypatch, [("config.json", 2_000), ("model.safetensors", 80 * MB),
                                       ("README.md", 47 * MB)])
    with pytest.raises(CheckpointError, match=r"someone/big-card: refused before downloading: README\.md \(47"):
        resolve_checkpoint("someone/big-card")
    assert downloads == []


def test_a_checkpoint_within_the_limits_is_downloaded_at_the_commit_checked(monkeypatch):
    downloads = fake_hub(monkeypatch, [("config.json", 2_000), ("model.safetensors", 80 * MB),
                                       ("README.md", MAX_CARD_BYTES), ("big/other.bin", 10 << 30)])
    assert str(resolve_checkpoint("someone/fine")) == "/nonexistent/snapshot"
    assert downloads == [dict(repo_id="someone/fine", revision="c0ffee", allow_patterns=list(HUB_FILES))]


def test_offline_a_cached_file_over_its_limit_is_refused_by_name(monkeypatch, tmp_path):
    from huggingface_hub import constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--someone--cached"
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit / "config.json").write_text("{}")
    (repo / "snapshots" / commit / "README.md").write_bytes(b"#" * (MAX_CARD_BYTES + 1))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(CheckpointError, match=r"someone/cached: refused from the Hub cache: README\.md \("):
        resolve_checkpoint("someone/cached")
