"""``python -m mlvae.train`` on real MNIST: learning, best checkpoint, resume, reproducibility, messages."""
import json

import pytest
import torch
from safetensors.torch import load_file

from mlvae import load_model
from mlvae.training.cli import main
from tests.conftest import run_cli

QUICK = ["--dataset", "mnist", "--max-train-images", "4000", "--max-val-images", "1000", "--groups-per-batch", "16"]


def metrics(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def train_in_process(*args: str) -> int:
    """``main(args)`` in this process, for the message tests; torch's thread count is put back."""
    threads = torch.get_num_threads()
    try:
        return main(list(args))
    finally:
        torch.set_num_threads(threads)


def test_training_on_real_mnist_improves_validation_elbo(shared_data, tmp_path):
    run = tmp_path / "run"
    done = run_cli("mlvae.train", *QUICK, "--epochs", "3", "--out", str(run))
    assert done.returncode == 0, done.stderr
    rows = metrics(run)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    elbos = [r["val_elbo"] for r in rows]
    assert elbos[0] < elbos[1] < elbos[2], elbos
    assert "val ELBO" in done.stderr and "images/s" in done.stderr
    model, config = load_model(run)  # a run folder loads its validation-selected best/
    assert config.data.dataset == "mnist" and not model.training
    assert (run / "best" / "split.json").exists()


def test_resume_continues_from_the_saved_step_and_matches_an_uninterrupted_run(shared_data, tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert run_cli("mlvae.train", *QUICK, "--epochs", "2", "--out", str(straight)).returncode == 0
    first = run_cli("mlvae.train", *QUICK, "--epochs", "2", "--max-steps", "30", "--out", str(resumed))
    assert first.returncode == 0, first.stderr
    assert metrics(resumed)[-1]["step"] == 30  # stopped in the middle of epoch 2
    again = run_cli("mlvae.train", "--out", str(resumed), "--resume")
    assert again.returncode == 0, again.stderr
    assert "resumed" in again.stderr and "step 30" in again.stderr
    steps = [r["step"] for r in metrics(resumed)]
    assert steps[-1] == metrics(straight)[-1]["step"] > 30
    a = load_file(str(straight / "last" / "model.safetensors"))
    b = load_file(str(resumed / "last" / "model.safetensors"))
    assert all((a[k] == b[k]).all() for k in a)


def test_same_seed_same_weights_other_seed_other_weights(shared_data, tmp_path):
    runs = {}
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        done = run_cli("mlvae.train", *QUICK, "--epochs", "1", "--max-steps", "5", "--seed", seed,
                       "--out", str(tmp_path / name))
        assert done.returncode == 0, done.stderr
        runs[name] = load_file(str(tmp_path / name / "last" / "model.safetensors"))
    assert all((runs["a"][k] == runs["b"][k]).all() for k in runs["a"])
    assert any((runs["a"][k] != runs["c"][k]).any() for k in runs["a"])


def test_help_explains_every_flag(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    for flag in ("--dataset", "--data-dir", "--groups-per-batch", "--min-group-size", "--max-group-size", "--resume",
                 "--seed", "--device", "--width", "--likelihood", "--model", "--posterior", "--push-to-hub"):
        assert flag in shown


@pytest.mark.parametrize("problem", ["missing-data", "existing-run", "resume-nothing"])
def test_bad_invocations_get_one_clear_message(tmp_path, problem, caplog):
    out = tmp_path / "run"
    if problem == "missing-data":
        code = train_in_process("--dataset", "folder", "--data-dir", str(tmp_path / "nope"), "--out", str(out))
        expected = "does not exist"
    elif problem == "existing-run":
        (out / "last").mkdir(parents=True)
        code = train_in_process("--out", str(out))
        expected = "--resume"
    else:
        code = train_in_process("--out", str(out), "--resume")
        expected = "start the run without --resume"
    assert code == 2  # an exception would have failed the test: the message is all the user sees
    assert [r.levelname for r in caplog.records].count("ERROR") == 1 and expected in caplog.text


@pytest.mark.parametrize("flags,expected", [
    (["--dataset", "mnist", "--arch", "conv"], "--arch conv takes 64x64 colour images"),
    (["--groups-per-batch", "0"], "--groups-per-batch must be at least 1, got 0"),
    (["--min-group-size", "5", "--max-group-size", "2"], "--max-group-size (2) must be at least --min-group-size (5)"),
    (["--lr", "nan"], "--lr must be a positive number, got nan"),
    (["--epochs", "-3"], "--epochs must be at least 1, got -3"),
    (["--epochs", "0"], "--epochs must be at least 1, got 0"),
    (["--crop-fraction", "-1"], "--crop-fraction must be in (0, 1], got -1"),
    (["--style-kl-weight", "-1"], "--style-kl-weight must be a number >= 0"),
    (["--ema-decay", "1"], "--ema-decay must be in [0, 1), got 1"),
    (["--content-logvar-bound", "0"], "--content-logvar-bound must be in (0, 20], got 0"),
])
def test_bad_flag_values_get_one_line_naming_the_flag(tmp_path, flags, expected, caplog):
    assert_refused_in_one_line(flags, expected, tmp_path, caplog)


def test_ema_decay_of_a_model_that_keeps_no_average_is_refused_in_one_line(shared_data, tmp_path, caplog):
    """Said once the trainer is chosen, after the data is read."""
    flags = ["--dataset", "mnist", "--model", "svi", "--ema-decay", "0.9"]
    assert_refused_in_one_line(flags, "--ema-decay does not apply to --model svi", tmp_path, caplog)


def assert_refused_in_one_line(flags: list[str], expected: str, tmp_path, caplog) -> None:
    """Training with ``flags`` exits with code 2 and one one-line error holding ``expected``, and writes no model."""
    assert train_in_process(*flags, "--out", str(tmp_path / "run")) == 2, caplog.text
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and expected in errors[0] and "\n" not in errors[0]
    assert not (tmp_path / "run" / "best").exists()


def test_resume_applies_lr_and_refuses_flags_the_run_fixes(shared_data, tmp_path):
    run = tmp_path / "run"
    assert run_cli("mlvae.train", *QUICK, "--epochs", "1", "--max-steps", "3", "--out", str(run)).returncode == 0
    refused = run_cli("mlvae.train", "--out", str(run), "--resume", "--groups-per-batch", "8")
    assert refused.returncode == 2 and "--groups-per-batch (the run has 16) cannot change on resume" in refused.stderr
    again = run_cli("mlvae.train", *QUICK, "--out", str(run), "--resume", "--max-steps", "4")  # the same flags again
    assert again.returncode == 0, again.stderr
    done = run_cli("mlvae.train", "--out", str(run), "--resume", "--lr", "0.0005", "--max-steps", "5")
    assert done.returncode == 0, done.stderr
    assert "resuming with --lr 0.0005 (the run had 0.001)" in done.stderr
    state = json.loads((run / "last" / "trainer_state.json").read_text())
    assert {g["lr"] for g in state["optimizer"]["param_groups"]} == {0.0005}
    assert json.loads((run / "config.json").read_text())["train"]["lr"] == 0.0005


@pytest.mark.parametrize("damage", ["other-latent-size", "truncated-state"])
def test_resume_onto_a_foreign_or_damaged_last_checkpoint_says_what_to_do(shared_data, tmp_path, damage):
    run, other = tmp_path / "run", tmp_path / "other"
    assert run_cli("mlvae.train", *QUICK, "--epochs", "1", "--max-steps", "2", "--out", str(run)).returncode == 0
    if damage == "other-latent-size":
        assert run_cli("mlvae.train", *QUICK, "--latent-dim", "4", "--epochs", "1", "--max-steps", "2",
                       "--out", str(other)).returncode == 0
        (run / "last" / "model.safetensors").write_bytes((other / "last" / "model.safetensors").read_bytes())
    else:
        state = run / "last" / "trainer_state.json"
        state.write_text(state.read_text()[: len(state.read_text()) // 2])
    done = run_cli("mlvae.train", "--out", str(run), "--resume")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "does not fit this run's config.json" in done.stderr or "not a readable" in done.stderr


def test_init_from_starts_at_the_checkpoint_weights_and_refuses_another_shape_or_split(shared_data, tmp_path):
    source = tmp_path / "source"
    assert run_cli("mlvae.train", *QUICK, "--epochs", "1", "--max-steps", "5", "--out", str(source)).returncode == 0
    start = load_file(str(source / "best" / "model.safetensors"))
    warm = tmp_path / "warm"  # another objective (a style-KL weight); lr so small that no weight can move
    done = run_cli("mlvae.train", *QUICK, "--epochs", "1", "--max-steps", "2", "--lr", "1e-30", "--style-kl-weight",
                   "2", "--init-from", str(source / "best"), "--out", str(warm))
    assert done.returncode == 0, done.stderr
    assert "initialised from the weights of" in done.stderr
    after = load_file(str(warm / "last" / "model.safetensors"))
    assert all((after[k] == start[k]).all() for k in start)
    assert json.loads((warm / "config.json").read_text())["train"]["init_from"] == str(source / "best")
    cold = tmp_path / "cold"  # the same flags without --init-from: a random start
    assert run_cli("mlvae.train", *QUICK, "--epochs", "1", "--max-steps", "2", "--lr", "1e-30", "--out",
                   str(cold)).returncode == 0
    assert any((load_file(str(cold / "last" / "model.safetensors"))[k] != start[k]).any() for k in start)
    for sizes, said in ((["--style-dim", "12"], "grown from content 10, style 10 to content 10, style 12"),
                        (["--latent-dim", "14", "--style-dim", "10"],
                         "grown from content 10, style 10 to content 14, style 10")):
        grown = tmp_path / f"grown{sizes[1]}"  # larger latents: the old weights keep their places
        done = run_cli("mlvae.train", *QUICK, "--epochs", "1", "--max-steps", "2", "--lr", "1e-30", *sizes,
                       "--init-from", str(source / "best"), "--out", str(grown))
        assert done.returncode == 0 and said in done.stderr, done.stderr
        after = load_file(str(grown / "last" / "model.safetensors"))
        kept = [k for k in start if after[k].shape == start[k].shape]
        # all but the heads (weight, bias) and the weight of the decoder layer that reads the latent
        assert len(kept) == len(start) - 3 and all((after[k] == start[k]).all() for k in kept)
    for flags, message in ((["--style-dim", "7"], "do not fit this run's model"),
                           (["--split-seed", "1"], "another split of the groups")):
        bad = run_cli("mlvae.train", *QUICK, "--epochs", "1", "--max-steps", "1", *flags, "--init-from",
                      str(source), "--out", str(tmp_path / f"bad{flags[0]}"))
        assert bad.returncode == 2 and message in bad.stderr, bad.stderr
        assert bad.stderr.count("ERROR") == 1


def test_ema_decay_validates_and_saves_the_average_without_changing_the_training(shared_data, tmp_path):
    plain, straight, resumed = tmp_path / "plain", tmp_path / "straight", tmp_path / "resumed"
    averaged = [*QUICK, "--epochs", "2", "--ema-decay", "0.9"]
    assert run_cli("mlvae.train", *QUICK, "--epochs", "2", "--out", str(plain)).returncode == 0
    assert run_cli("mlvae.train", *averaged, "--out", str(straight)).returncode == 0
    assert run_cli("mlvae.train", *averaged, "--max-steps", "30", "--out", str(resumed)).returncode == 0
    again = run_cli("mlvae.train", "--out", str(resumed), "--resume")
    assert again.returncode == 0, again.stderr
    live, live_plain = (load_file(str(r / "last" / "model.safetensors")) for r in (straight, plain))
    assert all((live[k] == live_plain[k]).all() for k in live)  # the same gradient steps, average or not
    state, state_resumed = (load_file(str(r / "last" / "training_state.safetensors")) for r in (straight, resumed))
    average = {k[len("average."):]: v for k, v in state.items() if k.startswith("average.")}
    assert average.keys() == live.keys()
    assert all((state_resumed["average." + k] == v).all() for k, v in average.items())  # resume kept the average
    assert metrics(straight)[-1]["best"]  # so best/ is the average at the end
    best = load_file(str(straight / "best" / "model.safetensors"))
    assert all((best[k] == average[k]).all() for k in best)
    assert any(not torch.equal(best[k], live[k]) for k in best if best[k].is_floating_point())
    assert metrics(straight)[-1]["val_elbo"] != metrics(plain)[-1]["val_elbo"]  # the average is what is validated
