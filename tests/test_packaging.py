"""``pip install .`` gives the library with every subpackage and the ``mlvae-train`` / ``mlvae-evaluate``
commands, which print the same help as ``python -m``; in a fresh virtual environment, the bundled checkpoints load
and ``mlvae-demo`` serves them with the demo's examples."""
import os
import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.demo_server import running_app


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    # --no-deps: the dependencies are this environment's; --no-build-isolation: no download of setuptools
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                           "--target", str(target), str(REPO)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def outside_the_repository(installed, *command):
    env = {**os.environ, "PYTHONPATH": str(installed)}
    return subprocess.run(list(command), capture_output=True, text=True, timeout=120, cwd=installed.parent, env=env)


@pytest.mark.parametrize("script, module", [("mlvae-train", "mlvae.train"), ("mlvae-evaluate", "mlvae.evaluate")])
def test_console_scripts_print_the_same_help_as_python_m(installed, script, module):
    done = outside_the_repository(installed, str(installed / "bin" / script), "--help")
    assert done.returncode == 0, done.stderr
    same = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, cwd=REPO)
    assert done.stdout == same.stdout and "--help" in done.stdout


def test_the_installed_package_holds_every_subpackage(installed):
    expected = sorted(str(p.relative_to(REPO)) for p in (REPO / "mlvae").rglob("*.py"))
    found = sorted(str(p.relative_to(installed)) for p in (installed / "mlvae").rglob("*.py"))
    assert found == expected
    done = outside_the_repository(installed, sys.executable, "-c",
                                  "import mlvae, mlvae.evaluate, mlvae.train; print(mlvae.__file__)")
    assert done.returncode == 0 and done.stdout.strip().startswith(str(installed)), done.stderr


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    """A fresh virtual environment outside the checkout, with ``pip install <the checkout>`` done in it. Its
    dependencies (torch, Gradio, pip and setuptools themselves) are this environment's, named in a .pth file, so
    that nothing is downloaded; a .pth line adds a path and runs none of that folder's own .pth files."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    done = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(REPO)],
                          capture_output=True, text=True, timeout=600, cwd=venv.parent, env=without_the_checkout())
    assert done.returncode == 0, done.stdout + done.stderr
    return venv


def without_the_checkout() -> dict[str, str]:
    """This environment with no path into the checkout."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def test_a_fresh_environment_loads_the_bundled_checkpoints(fresh_venv):
    code = ("import mlvae; from mlvae.checkpoint.folder import resolve_checkpoint\n"
            "for name in ('mnist', 'faces'):\n"
            "    model, config = mlvae.load_model(name)\n"
            "    print(resolve_checkpoint(name), config.data.dataset, sum(p.numel() for p in model.parameters()))\n"
            "print(mlvae.__file__)")
    done = subprocess.run([fresh_venv / "bin" / "python", "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=fresh_venv.parent, env=without_the_checkout())
    assert done.returncode == 0, done.stderr
    *loaded, package = done.stdout.split("\n")[:-1]
    assert package.startswith(str(fresh_venv)), package  # the installed package, not the checkout
    for line, name in zip(loaded, ("mnist", "faces"), strict=True):
        folder, dataset, parameters = line.split()
        assert Path(folder).is_relative_to(fresh_venv) and Path(folder).name == name
        assert dataset == {"mnist": "mnist", "faces": "folder"}[name] and int(parameters) > 100_000
    shipped = Path(loaded[0].split()[0]).parent
    files = [sorted(str(p.relative_to(top)) for p in top.rglob("*") if p.is_file())
             for top in (shipped, REPO / "checkpoints")]
    assert files[0] == files[1]  # every file of each checkpoint folder: weights, card, figures, face network


def test_the_installed_demo_command_serves_the_bundled_checkpoints_and_examples(fresh_venv, tmp_path):
    env = {**without_the_checkout(), "PYTHONPATH": ""}
    with running_app([], tmp_path / "demo.log", env=env, command=[str(fresh_venv / "bin" / "mlvae-demo")],
                     cwd=fresh_venv.parent) as url:
        config = urllib.request.urlopen(url + "config", timeout=30).read().decode()
    log = (tmp_path / "demo.log").read_text()
    assert "digits (MNIST)" in config and "faces (64x64 colour)" in config, log[-3000:]
    assert str(fresh_venv) in log and str(REPO) not in log  # loaded from the installed package
    code = ("from demo.galleries.example_sets import example_set\n"
            "for kind in ('digits', 'faces'):\n    print(*example_set(kind).pool)")
    done = subprocess.run([fresh_venv / "bin" / "python", "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=fresh_venv.parent, env=without_the_checkout())
    assert done.returncode == 0, done.stderr
    pools = [line.split() for line in done.stdout.splitlines()]
    assert [len(pool) for pool in pools] == [5, 5]  # the pool tab's first inputs, from the installed demo
    assert all(Path(path).is_relative_to(fresh_venv) for pool in pools for path in pool)
