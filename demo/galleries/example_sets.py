"""The example inputs that ship with the demo: images the models generated themselves (no third-party photos).

``demo/examples/digits/digit-<class>-<i>.png`` and ``demo/examples/faces/person-<p>-<i>.png`` are written by
``python -m demo.make_examples``; this module only picks which of them fill each tab (the groups each kind of
model names, ``demo.kinds``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..kinds import DIGITS, FACES, kind_named

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
DIGIT_NAME = DIGITS.examples.pattern
FACE_NAME = FACES.examples.pattern


@dataclass
class ExampleSet:
    """Paths for every tab's inputs (empty lists when the examples are missing)."""

    pool: list[str] = field(default_factory=list)
    interp_a: list[str] = field(default_factory=list)
    interp_b: list[str] = field(default_factory=list)
    swap: list[str] = field(default_factory=list)
    swap_labels: str = ""
    generate: list[str] = field(default_factory=list)
    album: list[str] = field(default_factory=list)
    album_labels: str = ""


def _files(root: Path, kind: str, pattern: str, group: int | str, indices: range) -> list[str]:
    folder = root / kind
    paths = [folder / pattern.format(group=group, index=i) for i in indices]
    return [str(p) for p in paths if p.is_file()]


def example_set(kind: str, root: Path = EXAMPLES_DIR) -> ExampleSet:
    """The examples (under ``root``) for a ``digits`` or ``faces`` model."""
    groups = kind_named(kind).examples
    kind, pattern = kind_named(kind).name, groups.pattern
    swap, labels = [], []
    for label, group in zip("abcd", groups.swap, strict=False):
        found = _files(root, kind, pattern, group, range(2))
        swap += found
        labels += [label] * len(found)
    return ExampleSet(
        pool=_files(root, kind, pattern, groups.pool, range(5)),
        interp_a=_files(root, kind, pattern, groups.interp_a, range(2)),
        interp_b=_files(root, kind, pattern, groups.interp_b, range(2)),
        swap=swap,
        swap_labels=" ".join(labels),
        generate=_files(root, kind, pattern, groups.generate, range(3)),
        album=[path for i in range(4) for group in groups.swap for path in _files(root, kind, pattern, group, [i])],
    )
