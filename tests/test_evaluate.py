"""The evaluation: classifier protocol (supplement §3), held-out test images, and the whole command."""
from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest
import torch
from PIL import Image

from mlvae.checkpoint.folder import write_json
from mlvae.config import DataConfig, RunConfig
from mlvae.errors import DataError
from mlvae.evaluation.cli import build_parser, config_from_args
from mlvae.evaluation.config import FULL, QUICK, EvaluationConfig
from mlvae.evaluation.held_out import load_test_images
from mlvae.evaluation.run import (
    FILES,
    classifier_protocol,
    describe_test_set,
    evaluate,
    figures_section,
    probe_config,
)
from mlvae.evaluation.supplement_probe import (
    FeatureSource,
    ProtocolConfig,
    block_labels,
    pooling_members,
    run_protocol,
    split_trials,
)
from mlvae.model.posterior import DiagonalNormal
from tests.conftest import run_cli


@pytest.mark.parametrize("max_k, trials", [(20, 5), (250, 3)])  # enough images for disjoint trials, and not
def test_classifier_protocol_keeps_train_val_and_test_images_disjoint(mnist_splits, max_k, trials):
    labels = mnist_splits.test.groups
    splits = split_trials(labels, max_k, trials, seed=0)
    assert len(splits) == trials
    for split in splits:
        parts = [split.train, split.val, split.test]
        assert all(p.shape == (10, max_k) for p in parts)
        flat = torch.cat([p.flatten() for p in parts])
        assert flat.unique().numel() == flat.numel()  # disjoint, no image twice
        for p in parts:
            assert (labels[p] == labels[p[:, :1]]).all()  # a row is one class
        generator = torch.Generator().manual_seed(0)
        for k in (1, 2, max_k):
            for part in parts:
                members = pooling_members(part, k, generator)
                inside = torch.zeros(len(labels), dtype=torch.bool)
                inside[part.flatten()] = True
                assert inside[members].all()  # pooled only within its own set
                assert (members[:, 0] == part.flatten()).all()  # each row starts with the image itself
                assert (labels[members] == labels[members[:, :1]]).all()
                ordered = members.sort(dim=1).values
                assert (ordered[:, 1:] != ordered[:, :-1]).all()  # k distinct images
    if max_k * 3 * trials <= int(torch.bincount(labels).min()):
        every = torch.cat([torch.cat([s.train, s.val, s.test]).flatten() for s in splits])
        assert every.unique().numel() == every.numel()  # trials use different images


def test_split_needs_two_classes_with_enough_images(mnist_splits):
    with pytest.raises(DataError, match="lower --K"):
        split_trials(mnist_splits.test.groups, 400, 1)


def test_classifier_reads_class_from_informative_features_and_not_from_noise():
    """Features whose mean is the class (noisy per image) vs features independent of the class: the first
    become more accurate as k images are pooled, the second stay near chance."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(6).repeat_interleave(40)
    centres = torch.randn((6, 4), generator=generator) * 3.0
    noisy = centres[labels] + torch.randn((240, 4), generator=generator) * 2.0
    informative = DiagonalNormal(noisy, torch.full((240, 4), math.log(4.0)))
    unrelated = DiagonalNormal(torch.randn((240, 4), generator=generator), torch.zeros(240, 4))
    config = ProtocolConfig(max_k=8, trials=2, max_epochs=80, patience=10, feature_mode="mean")
    results = run_protocol(
        labels, {"C": FeatureSource(informative, pooled=True), "S": FeatureSource(unrelated, pooled=False)}, config
    )
    c, s = results["features"]["C"], results["features"]["S"]
    assert c["accuracy"]["mean"][-1] > 0.95 and c["accuracy"]["mean"][-1] > c["accuracy"]["mean"][0] + 0.1
    assert c["bits"]["mean"][-1] < c["bits"]["mean"][0]
    assert max(s["accuracy"]["mean"]) < 0.45
    assert results["num_classes"] == 6 and results["k"] == list(range(1, 9))
    assert len(c["accuracy"]["trials"]) == 2 and all(len(t) == 8 for t in c["accuracy"]["trials"])


def test_block_labels_follow_rows():
    assert block_labels(torch.zeros((3, 2), dtype=torch.long)).tolist() == [0, 0, 1, 1, 2, 2]


# ---- held-out test images of folder datasets -----------------------------------------------------------------
@pytest.fixture
def face_groups(shared_data, tmp_path):
    """A folder of four real identities' folders (links, no copies)."""
    source = shared_data / "faces-celeba200"
    folder = tmp_path / "faces"
    folder.mkdir()
    names = sorted(p.name for p in source.iterdir() if p.is_dir())[:4]
    for name in names:
        (folder / name).symlink_to(source / name)
    return folder, names


def test_folder_test_images_are_the_split_test_groups_or_all_groups(face_groups, tmp_path):
    folder, names = face_groups
    checkpoint = tmp_path / "run" / "best"
    checkpoint.mkdir(parents=True)
    data = DataConfig(dataset="folder", data_dir=str(folder), image_size=64, image_channels=3, crop_fraction=0.8)
    with pytest.raises(DataError, match="--all-groups"):
        load_test_images(checkpoint, data)
    write_json(checkpoint.parent / "split.json", {"groups": {"train": names[:2], "val": [], "test": names[2:]}})
    test = load_test_images(checkpoint, data)
    assert test.group_names == names[2:]
    assert test.images.shape[1:] == (3, 64, 64) and len(test) == 60
    everything = load_test_images(checkpoint, data, all_groups=True)
    assert everything.group_names == names and len(everything) == 120
    write_json(checkpoint.parent / "split.json", {"groups": {"test": ["no-such-person"]}})
    with pytest.raises(DataError, match="not in"):
        load_test_images(checkpoint, data)


# ---- the whole command --------------------------------------------------------------------------------------
def test_evaluation_of_a_real_mnist_model_writes_every_file(tiny_mnist_runs, tmp_path):
    out = tmp_path / "eval"
    result = run_cli(
        "mlvae.evaluate", str(tiny_mnist_runs["mlvae"]), "--baseline", str(tiny_mnist_runs["vae"]),
        "--quick", "--out", str(out), "--threads", "1",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for key, name in FILES.items():
        if not key.startswith(("identity", "album")):  # written with --identity (faces) and --album only
            assert (out / name).stat().st_size > 0, name
    for key in ("swap_strategy1", "swap_strategy2", "interpolation", "generation", "pooling", "classifier_plot"):
        with Image.open(out / FILES[key]) as image:
            assert image.format == "PNG" and min(image.size) >= 56
    with Image.open(out / FILES["swap_strategy1"]) as image:  # 3 x 3 swaps + input and reconstruction rows/cols
        assert image.size[0] >= 5 * 56
    results = json.loads((out / FILES["classifier_json"]).read_text())
    assert set(results["features"]) == {"S", "C", "VAE"}
    for feature in results["features"].values():
        assert len(feature["accuracy"]["mean"]) == 3 and len(feature["bits"]["trials"]) == 2
        assert all(0.0 <= a <= 1.0 for a in feature["accuracy"]["mean"])
    report = (out / FILES["report"]).read_text()
    for key, name in FILES.items():
        if key not in ("report", "classifier_table", "probe_table") and not key.startswith(("identity", "album")):
            assert f"({name})" in report, name
    assert "| k |" in report and "VAE acc." in report
    assert "the standard MNIST test set" in report
    probes = json.loads((out / FILES["probe_json"]).read_text())
    assert [(r["features"], r["k"]) for r in probes["rows"]] == [
        ("S", None), ("C", 1), ("C", 5), ("C", 10), ("VAE", 1), ("VAE", 5), ("VAE", 10)]
    assert probes["fit_images"] + probes["val_images"] == probes["test_images"] == 600
    assert all(0.0 <= a <= 1.0 for r in probes["rows"] for a in r["accuracy"].values())
    assert "Probe (a)" in report and "Probe (b)" in report and "| C, k = 5 |" in report
    judge = json.loads((out / FILES["judge_json"]).read_text())
    assert set(judge["figures"]) == {"input", "recon", "pooled", "swap->C", "swap->S", "pairwise", "gen"}
    assert judge["train_images"] == 5000 and judge["test_accuracy"] > 80  # a real CNN on real training digits
    assert "Swap judge" in report and "| swap->C |" in report


def test_code_runs_an_evaluation_from_its_config_and_the_config_checks_its_values(tiny_mnist_runs, tmp_path):
    out = evaluate(EvaluationConfig(str(tiny_mnist_runs["mlvae"]), quick=True, out=str(tmp_path / "eval")),
                   sections=[figures_section])
    assert out == tmp_path / "eval" and (out / FILES["swap_strategy1"]).stat().st_size > 0
    assert f"({FILES['swap_strategy1']})" in (out / FILES["report"]).read_text()
    assert not (out / FILES["classifier_json"]).exists()  # only the sections asked for
    with pytest.raises(ValueError, match="--identity-k must be at least 1"):
        EvaluationConfig("mnist", identity_k=0)
    with pytest.raises(ValueError, match="--probe-k must be comma-separated integers"):
        EvaluationConfig("mnist", probe_k="1,five")


def test_evaluation_of_a_missing_checkpoint_says_what_to_give(tmp_path):
    result = run_cli("mlvae.evaluate", str(tmp_path / "nothing-here"), "--quick", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "no checkpoint" in result.stderr and "Traceback" not in result.stderr


def test_decoded_only_figures_show_reconstructions_instead_of_inputs(tiny_mnist_runs, mnist_splits):
    from mlvae import load_model
    from mlvae.evaluation.qualitative import QUICK_SIZES, make_figures

    model, _ = load_model(tiny_mnist_runs["mlvae"])
    test = mnist_splits.test.subset(torch.arange(400))
    plain = make_figures(model, test, QUICK_SIZES, 2, "mean", 0)
    decoded = make_figures(model, test, QUICK_SIZES, 2, "mean", 0, decoded_only=True)
    for key in plain:  # every figure shows inputs, so every figure changes
        assert plain[key].size == decoded[key].size
        assert plain[key].tobytes() != decoded[key].tobytes(), key


# ---- which data the report names ----------------------------------------------------------------------------
def write_idx(path, array) -> None:
    """A torchvision idx file (ubyte) of a uint8 array: images (N, 28, 28) or labels (N,)."""
    import numpy as np

    magic = 2051 if array.ndim == 3 else 2049
    header = np.array([magic, *array.shape], dtype=">i4").tobytes()
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def test_report_names_the_test_data_actually_read(shared_data, tmp_path):
    """A torchvision-layout folder that is not MNIST (here MNIST's test digits inverted, as a stand-in for
    Fashion-MNIST, which has the same layout) is named by its folder, never "the standard MNIST test set"."""
    source = shared_data / "mnist" / "MNIST" / "raw"
    raw = tmp_path / "fashion-mnist" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / name).symlink_to(source / name)
    real = load_test_images(tmp_path, DataConfig(dataset="mnist"))
    write_idx(raw / "t10k-images-idx3-ubyte", 255 - real.images[:, 0].numpy())
    config = RunConfig()
    assert describe_test_set(config, real, EvaluationConfig(str(tmp_path))).startswith(
        "the standard MNIST test set (10000 images")
    other_dir = str(tmp_path / "fashion-mnist")
    other = load_test_images(tmp_path, DataConfig(dataset="mnist"), other_dir)
    text = describe_test_set(config, other, EvaluationConfig(str(tmp_path), data_dir=[other_dir]))
    assert not text.startswith("the standard MNIST") and "not the standard MNIST test set" in text
    assert other_dir in text and "10000 test images" in text


def test_probe_a_uses_the_supplements_K_of_100_for_mnist_by_default(mnist_splits):
    run = SimpleNamespace(config=RunConfig(), test=mnist_splits.test, settings=EvaluationConfig("mnist"))
    assert classifier_protocol(run).max_k == 100
    run.settings = config_from_args(build_parser().parse_args(["mnist", "--K", "20"]))
    assert classifier_protocol(run).max_k == 20


def test_unset_settings_take_the_full_or_quick_preset_and_the_help_states_both():
    help_text = " ".join(build_parser().format_help().split())
    for name in ("trials", "max_epochs", "patience", "judge_trials", "identity_trials"):
        full, quick = getattr(FULL, name), getattr(QUICK, name)
        assert EvaluationConfig("mnist").setting(name) == full
        assert EvaluationConfig("mnist", quick=True).setting(name) == quick
        assert EvaluationConfig("mnist", quick=True, **{name: 7}).setting(name) == 7  # a flag given wins
        assert f"(default: {full}" in help_text and f"--quick: {quick})" in help_text, name
    run = SimpleNamespace(config=RunConfig(), test=None, settings=EvaluationConfig("mnist", quick=True))
    protocol = classifier_protocol(run)
    assert (protocol.max_k, protocol.trials, protocol.max_epochs) == (QUICK.K, QUICK.trials, QUICK.max_epochs)
    probes = probe_config(run)
    assert (probes.train_per_class, probes.max_epochs, probes.patience) == (
        QUICK.probe_per_class, QUICK.max_epochs, QUICK.patience)
