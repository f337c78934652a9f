"""Packaging beside pyproject.toml (which holds the rest): the library and demo packages, found, and the bundled
checkpoints in ``checkpoints/``, installed as the data package ``mlvae/shipped`` (``mlvae.load_model("mnist")``)."""
from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["mlvae", "mlvae.*", "demo", "demo.*"]), "mlvae.shipped"],
    package_dir={"mlvae.shipped": "checkpoints"},
)
