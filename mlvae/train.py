"""``python -m mlvae.train``: the training command line (``mlvae.training.cli``)."""
import sys

from mlvae.training.cli import main

if __name__ == "__main__":
    sys.exit(main())
