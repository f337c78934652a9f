"""An exponential moving average of a model's weights (Polyak averaging), validated and saved as ``best/``.

The validation ELBO of the faces runs swings by up to 1,000 nats between epochs at a fixed learning rate: single
iterates bounce around a plateau, and their average sits nearer its middle. The average changes what is
validated and shipped, never the objective or the gradient steps.
"""
from __future__ import annotations

import torch
from torch import nn

PREFIX = "average."


class WeightAverage:
    """``model``: a copy of a module whose floating-point weights and buffers (BatchNorm statistics) follow
    avg <- decay * avg + (1 - decay) * live after each optimiser step; integer buffers are copied."""

    def __init__(self, model: nn.Module, live: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"the average's decay must be in (0, 1), got {decay}")
        self.model, self.decay = model.eval().requires_grad_(False), decay
        self.reset(live)

    def _pairs(self, live: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
        mine, theirs = self.model.state_dict(), live.state_dict()
        if mine.keys() != theirs.keys():
            raise ValueError("the averaged model and the trained one have different layers")
        return [(mine[k], theirs[k]) for k in mine]

    @torch.no_grad()
    def reset(self, live: nn.Module) -> None:
        """Start the average at ``live``'s weights."""
        for avg, value in self._pairs(live):
            avg.copy_(value)

    @torch.no_grad()
    def update(self, live: nn.Module) -> None:
        """One step of the moving average towards ``live``'s weights."""
        floats, targets = [], []
        for avg, value in self._pairs(live):
            if avg.is_floating_point():
                floats.append(avg)
                targets.append(value.detach().to(avg.dtype))
            else:
                avg.copy_(value)
        if floats:
            torch._foreach_lerp_(floats, targets, 1.0 - self.decay)

    def tensors(self) -> dict[str, torch.Tensor]:
        """The average as named CPU tensors, for the resumable state file."""
        return {PREFIX + k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}

    def load(self, tensors: dict[str, torch.Tensor]) -> bool:
        """Restore from ``tensors`` (the state file's); returns False when it holds no average."""
        saved = {k[len(PREFIX):]: v for k, v in tensors.items() if k.startswith(PREFIX)}
        if not saved:
            return False
        self.model.load_state_dict(saved)
        return True
