"""A checkpoint's model card (``README.md`` beside the weights): its YAML front matter and its text.

The front matter carries the measured figures under ``mlvae:``, so a test can measure them again and compare;
``shortfall:`` there is the one line a model that misses its goals shows in the demo.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CARD_NAME = "README.md"
MAX_CARD_BYTES = 256 << 10  # the shipped cards are ~25 kB; a larger one is not sent with every page


@dataclass
class ModelCard:
    """A parsed card: the front matter (``{}`` when absent or unreadable) and the Markdown after it."""

    metadata: dict[str, Any] = field(default_factory=dict)
    body: str = ""

    @property
    def figures(self) -> dict[str, Any]:
        """The ``mlvae:`` section of the front matter (the measured figures)."""
        section = self.metadata.get("mlvae")
        return section if isinstance(section, dict) else {}

    @property
    def shortfall(self) -> str | None:
        """The one-line ``mlvae: shortfall:`` a card gives when its model misses its goals, or None."""
        value = self.figures.get("shortfall")
        return value.strip() if isinstance(value, str) and value.strip() else None


def parse_card(text: str) -> ModelCard:
    """Split a card's text into front matter and body; a malformed front matter reads as none."""
    if not text.startswith("---\n"):
        return ModelCard(body=text.strip())
    parts = text.split("\n---", 1)
    if len(parts) < 2:
        return ModelCard(body=text.strip())
    try:
        metadata = yaml.safe_load(parts[0][4:])
    except yaml.YAMLError:
        metadata = None
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    return ModelCard(metadata if isinstance(metadata, dict) else {}, body.strip())


def read_card(folder: Path) -> ModelCard | None:
    """The card of the checkpoint in ``folder``, or None when it has none (or it cannot be read)."""
    path = Path(folder) / CARD_NAME
    try:
        if path.stat().st_size > MAX_CARD_BYTES:
            return ModelCard(body=f"_The model card (README.md) is {path.stat().st_size >> 10} kB, more than the "
                                  f"{MAX_CARD_BYTES >> 10} kB shown here: read it in the checkpoint's folder._")
        return parse_card(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None


def front_matter(metadata: dict) -> str:
    """YAML front matter block for a card."""
    return "---\n" + yaml.safe_dump(metadata, sort_keys=False) + "---\n"
