"""Flags generated from dataclass fields: one field with ``flag`` metadata is one working flag."""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import pytest

from mlvae.config import PRESETS, DataConfig, ModelConfig, TrainConfig
from mlvae.flags import add_flags, flag, given_flags, values_for
from mlvae.training.cli import build_parser, config_from_args


@dataclass
class Example:
    name: str = field(metadata=flag("what to read", positional=True, metavar="NAME"))
    steps: int = field(default=3, metadata=flag("how many steps", group="run"))
    rate: float | None = field(default=None, metadata=flag("a rate", group="run", name="--lr", default_text="auto"))
    fast: bool = field(default=False, metadata=flag("go fast", group="run"))
    folders: list[str] = field(default_factory=list, metadata=flag("repeat it", repeat=True))
    kind: str = field(default="a", metadata=flag("which kind", choices=("a", "b")))
    hidden: int = 7  # no flag


def parse(argv: list[str]) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser()
    add_flags(parser, Example, {})
    return parser, parser.parse_args(argv)


def test_a_field_with_flag_metadata_is_a_typed_flag_with_its_default_in_the_help():
    parser, args = parse(["x", "--steps", "5", "--lr", "0.5", "--fast", "--folders", "p", "--folders", "q"])
    assert Example(**values_for(Example, args)) == Example("x", 5, 0.5, True, ["p", "q"], "a")
    _, args = parse(["y"])
    assert Example(**values_for(Example, args)) == Example("y")  # defaults, and a fresh empty list
    text = " ".join(parser.format_help().split())
    assert "how many steps (default: 3)" in text and "a rate (default: auto)" in text and "--hidden" not in text
    assert "{a,b}" in text and "run:" in text
    with pytest.raises(SystemExit):
        parse(["x", "--kind", "c"])
    assert given_flags(parser, ["x", "--steps", "5"]) == {"name", "steps"}
    assert parser.parse_args(["x"]).steps == 3  # given_flags leaves the parser's defaults as they were


def test_the_training_cli_has_a_flag_for_each_flagged_config_field_and_applies_the_dataset_preset():
    text = " ".join(build_parser().format_help().split())
    assert "(default: 10 for mnist, 50 for folder)" in text and "--threads THREADS" in text
    folder = config_from_args(build_parser().parse_args(["--dataset", "folder", "--data-dir", "d"]))
    preset = PRESETS["folder"]
    assert (folder.model.architecture, folder.model.latent_dim, folder.model.likelihood, folder.data.crop_fraction) == (
        preset.architecture, preset.latent_dim, preset.likelihood, preset.crop_fraction)
    assert (folder.model.image_size, folder.data.image_channels, folder.data.data_dir) == (64, 3, "d")
    given = config_from_args(build_parser().parse_args(["--latent-dim", "4", "--threads", "2", "--flip"]))
    assert (given.model.latent_dim, given.train.num_threads, given.train.flip) == (4, 2, True)
    assert config_from_args(build_parser().parse_args([])).train == TrainConfig()
    assert config_from_args(build_parser().parse_args([])).model == ModelConfig(likelihood="normal-unit")
    assert config_from_args(build_parser().parse_args([])).data == DataConfig()
