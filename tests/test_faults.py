"""Faults in training: SIGKILL during a checkpoint save, a NaN loss, an unwritable or full output folder."""
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file

from mlvae import load_model
from mlvae.training.state import TrainingError, check_output_folder
from tests.conftest import REPO, run_cli

QUICK = ["--dataset", "mnist", "--max-train-images", "600", "--max-val-images", "300", "--groups-per-batch", "16"]

# Runs the training CLI with one function patched, given as Python source.
WRAPPER = """
import sys
{patch}
from mlvae.training.cli import main
sys.exit(main(sys.argv[1:]))
"""


def start(patch: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    code = WRAPPER.format(patch=textwrap.dedent(patch))
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


SLOW_SECOND_SAVE = """
import os, time
_replace, _count = os.replace, [0]
def slow_replace(src, dst):
    if str(dst).endswith(os.path.join("last", "model.safetensors")):
        _count[0] += 1
        if _count[0] == 2:  # the second save of last/: the new weights are written, not yet renamed
            print("SAVING", flush=True)
            time.sleep(120)
    return _replace(src, dst)
os.replace = slow_replace
"""


def test_sigkill_during_a_checkpoint_save_leaves_a_loadable_checkpoint_and_resume_finishes(shared_data, tmp_path):
    run = tmp_path / "run"
    proc = start(SLOW_SECOND_SAVE, *QUICK, "--epochs", "3", "--out", str(run))
    try:
        for line in proc.stdout:
            if line.strip() == "SAVING":
                break
        else:
            pytest.fail("training ended without a second save: " + proc.stderr.read()[-2000:])
        before = load_file(str(run / "last" / "model.safetensors"))
        leftovers = [p.name for p in (run / "last").iterdir() if p.name.endswith(".tmp")]
        assert leftovers, "the kill must happen while a new weights file is half-way to its place"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    model, _ = load_model(run / "last")  # the previous good checkpoint
    after = load_file(str(run / "last" / "model.safetensors"))
    assert all(torch.equal(before[k], after[k]) for k in before)
    state = json.loads((run / "last" / "trainer_state.json").read_text())
    assert state["progress"]["epoch"] == 1
    done = run_cli("mlvae.train", "--out", str(run), "--resume")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["epoch"] == 3


NAN_AT_STEP_10 = """
import dataclasses
from mlvae.training.trainer import Trainer
_objective = Trainer.batch_objective
def poisoned(self, x, batch):
    terms = _objective(self, x, batch)
    if self.progress.step == 9:
        return dataclasses.replace(terms, loss=terms.loss * float("nan"))
    return terms
Trainer.batch_objective = poisoned
"""


def test_nan_loss_stops_the_run_naming_the_step_and_keeps_the_last_good_checkpoint(shared_data, tmp_path):
    run = tmp_path / "run"
    proc = start(NAN_AT_STEP_10, *QUICK, "--epochs", "5", "--out", str(run))
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 2
    assert "nan at step 10" in err and "Traceback" not in err
    state = json.loads((run / "last" / "trainer_state.json").read_text())
    assert 0 < state["progress"]["step"] < 10
    load_model(run / "last")


def test_unwritable_output_folder_is_reported_before_training(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = run_cli("mlvae.train", "--dataset", "folder", "--data-dir", str(tmp_path), "--out", str(blocker / "run"))
    assert done.returncode == 2
    assert "cannot write to the output folder" in done.stderr
    assert "data folder" not in done.stderr  # reported before the data is even looked at


def test_full_disk_is_reported_before_training(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 2**20, 2**20))
    with pytest.raises(TrainingError, match="only 1 MiB free"):
        check_output_folder(tmp_path / "run", needed_bytes=50 * 2**20)
