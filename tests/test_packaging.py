"""``pip install .`` gives the library with every subpackage and the ``mlvae-train`` / ``mlvae-evaluate``
commands, which print the same help as ``python -m``."""
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


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
