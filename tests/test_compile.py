"""``--compile``: the flag reaches the config, compiling keeps the checkpoint's keys, and where torch.compile
cannot work training says why and runs without it."""
import logging

import torch

from mlvae.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from mlvae.data import GroupedImages, Splits
from mlvae.training import compile as compile_module
from mlvae.training.cli import build_parser, config_from_args
from mlvae.training.trainer import Trainer


def faces_trainer(tmp_path, **train):
    model = ModelConfig(architecture="conv", latent_dim=8, width=0.125,
                        likelihood="normal-fixed")
    images = torch.randint(0, 256, (24, 3, 64, 64), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    data = GroupedImages(images, torch.arange(24) // 4, [f"g{i}" for i in range(6)])
    config = RunConfig(model=model, data=DataConfig(dataset="folder", image_size=64, image_channels=3),
                       train=TrainConfig(groups_per_batch=3, min_group_size=2, max_group_size=4, **train))
    return Trainer(config, Splits(data, data, data), tmp_path)


def test_the_flag_is_parsed_into_the_run_config():
    args = build_parser().parse_args(["--dataset", "folder", "--data-dir", "faces", "--compile"])
    assert config_from_args(args).train.compile is True
    args = build_parser().parse_args(["--dataset", "folder", "--data-dir", "faces"])
    assert config_from_args(args).train.compile is False


def test_without_a_working_compiler_training_says_so_and_runs_uncompiled(tmp_path, monkeypatch, caplog):
    def broken(fn, **_):
        def run(*args):
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found")
        return run

    monkeypatch.setattr(torch, "compile", broken)
    with caplog.at_level(logging.WARNING):
        trainer = faces_trainer(tmp_path, compile=True)
    assert "--compile: torch.compile does not work on this machine (RuntimeError: InvalidCxxCompiler" in caplog.text
    assert "training continues without it" in caplog.text
    before = {k: v.clone() for k, v in trainer.module.state_dict().items()}
    loss = trainer.train_step(next(iter(trainer.sampler)))
    assert torch.isfinite(torch.tensor(loss))
    assert any((before[k] != v).any() for k, v in trainer.module.state_dict().items())  # it trained


def test_compiling_in_place_keeps_the_state_dict_keys(tmp_path, monkeypatch):
    plain = faces_trainer(tmp_path)
    monkeypatch.setattr(compile_module, "compiler_problem", lambda: None)  # compiling itself takes minutes here
    compiled = faces_trainer(tmp_path, compile=True)
    assert compiled.module._compiled_call_impl is not None  # forward goes through torch.compile
    assert list(compiled.module.state_dict()) == list(plain.module.state_dict())


def test_a_graph_torch_compile_cannot_build_mid_run_is_trained_eagerly_with_a_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(compile_module, "compiler_problem", lambda: None)
    monkeypatch.setattr(torch.nn.Module, "compile", lambda self, **_: None)  # a real compile takes minutes here
    trainer = faces_trainer(tmp_path, compile=True)
    assert trainer.compiled
    eager = trainer.batch_objective
    calls = []

    def fails_once(x, batch):
        calls.append(1)
        if len(calls) == 1:
            raise torch._dynamo.exc.TorchRuntimeError("SymIntArrayRef expected to contain only concrete integers")
        return eager(x, batch)

    monkeypatch.setattr(trainer, "batch_objective", fails_once)
    monkeypatch.setattr(torch.compiler, "set_stance", lambda stance: calls.append(stance))  # process-wide
    with caplog.at_level(logging.WARNING):
        loss = trainer.train_step(next(iter(trainer.sampler)))
    assert torch.isfinite(torch.tensor(loss)) and not trainer.compiled and "force_eager" in calls
    assert "--compile: torch.compile failed on this model (TorchRuntimeError: SymIntArrayRef" in caplog.text
