"""``python -m mlvae.face_features``: train the project's own face network on one split's training people."""
import sys

from mlvae.training.face_network_cli import main

if __name__ == "__main__":
    sys.exit(main())
