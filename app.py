"""Entry point of the ML-VAE demo (what a Hugging Face Space runs): ``python app.py [--model PATH_OR_HUB_ID ...]``.

See ``python app.py --help``; the interface itself is built in ``demo/``.
"""
import sys

from demo.cli import main

if __name__ == "__main__":
    sys.exit(main())
