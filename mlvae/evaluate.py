"""``python -m mlvae.evaluate``: the evaluation command line (``mlvae.evaluation.cli``); ``evaluate(config)``
runs an evaluation from code."""
import sys

from mlvae.evaluation.cli import main
from mlvae.evaluation.run import EvaluationConfig, evaluate

__all__ = ["EvaluationConfig", "evaluate", "main"]

if __name__ == "__main__":
    sys.exit(main())
