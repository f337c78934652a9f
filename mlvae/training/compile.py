"""``--compile``: torch.compile the training forward where a compiler works, else say why and train eagerly."""
from __future__ import annotations

import logging

import torch
from torch import nn

log = logging.getLogger(__name__)
# what torch.compile raises when it cannot trace or build a graph
COMPILE_ERRORS = (torch._dynamo.exc.TorchDynamoException, torch._inductor.exc.InductorError)


def _probe(x: torch.Tensor) -> torch.Tensor:
    return torch.relu(x) * 2.0 + 1.0


def compiler_problem() -> str | None:
    """None when torch.compile's default backend (inductor) compiles and runs a tiny function here; else why not."""
    try:
        torch.compile(_probe, fullgraph=True)(torch.ones(4))
    except Exception as exc:  # inductor fails in many ways without a working C++ compiler (or Triton on GPU)
        return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:300]}"
    return None


def compile_in_place(module: nn.Module) -> bool:
    """Compile ``module``'s forward in place (its state-dict keys stay as they are); False, with a warning
    naming the reason, where no compiler works."""
    problem = compiler_problem()
    if problem is not None:
        log.warning("--compile: torch.compile does not work on this machine (%s); training continues without "
                    "it, as fast as without --compile", problem)
        return False
    module.compile()
    log.info("--compile: the training forward is compiled by torch.compile (the first steps take minutes)")
    return True


def compile_failed(exc: BaseException) -> None:
    """Say that torch.compile failed on this run's model, and train eagerly from here on."""
    log.warning("--compile: torch.compile failed on this model (%s: %s); training continues without it",
                type(exc).__name__, (str(exc).strip().splitlines() or [""])[0][:300])
    torch.compiler.set_stance("force_eager")
