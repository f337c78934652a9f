"""ruff, with the rules pyproject.toml selects (E, F, I, B, UP), finds nothing anywhere in the tree."""
import subprocess

from ruff.__main__ import find_ruff_bin

from tests.conftest import REPO


def test_ruff_finds_nothing():
    done = subprocess.run([find_ruff_bin(), "check", "--no-cache", "--output-format", "concise", str(REPO)],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
