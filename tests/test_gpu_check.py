"""benchmarks/gpu_check.py: its CPU dry run builds the full-width faces model and trains one step."""
import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO


def run(*args):
    return subprocess.run([sys.executable, "-m", "benchmarks.gpu_check", *args],
                          capture_output=True, text=True, timeout=600, cwd=REPO)


def test_dry_run_builds_the_full_width_model_and_takes_one_cpu_step():
    done = run("--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[ok] cpu step: width 1.0" in done.stdout and "M parameters" in done.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a CUDA machine the real check runs (minutes) instead")
def test_without_cuda_it_says_what_to_do():
    done = run("--steps", "2")
    assert done.returncode == 2 and "no CUDA device" in done.stdout
