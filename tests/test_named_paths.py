"""Every repository file that a message, docstring or document names exists: no path goes stale when a module moves."""
from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO

NAMED = re.compile(r"\b(?:mlvae|demo|benchmarks|scripts|tests|docs)/[\w/.-]+\.(?:py|md|sh|json)\b")
SOURCES = ["mlvae", "demo", "benchmarks", "scripts", "tests", "docs", "checkpoints", "app.py", "README.md"]


def named_paths(text: str) -> set[str]:
    """The repository paths (``mlvae/latent.py``, ``docs/x.md``, ...) that ``text`` names."""
    return set(NAMED.findall(text))


def test_the_finder_sees_a_moved_module():
    assert named_paths("see mlvae/baselines/svi_encode.py); or `docs/training.md`") == {
        "mlvae/baselines/svi_encode.py", "docs/training.md"}
    assert not (REPO / "mlvae/baselines/svi_encode.py").exists()


def test_every_named_repository_file_exists():
    files = []
    for name in SOURCES:
        path = REPO / name
        files += [path] if path.is_file() else sorted(path.rglob("*.py")) + sorted(path.rglob("*.md"))
    files = [f for f in files if f != Path(__file__)]  # its examples name missing files on purpose
    assert len(files) > 50
    missing = sorted({f"{f.relative_to(REPO)}: {p}" for f in files for p in named_paths(f.read_text(encoding="utf-8"))
                      if not (REPO / p).exists()})
    assert not missing, missing
