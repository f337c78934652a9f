"""The swap tab's group labels ("a a b b", one per photo) -> the groups whose content each column pools."""
from __future__ import annotations

from collections.abc import Sequence

from mlvae import DataError


def labels_to_groups(labels: str, count: int, used: Sequence[int] | None = None) -> list[list[int]]:
    """Group labels ("a a b b", one per photo) -> for each photo, the indices of the OTHER photos of its group.

    An empty string puts every photo in one group. Raises DataError when the count of labels is wrong.
    ``used``: the positions of the photos that could be used (the others were refused); the labels are
    counted against all ``count`` photos, and the groups returned are over the used ones, indexed among them."""
    parts = labels.replace(",", " ").split()
    if not parts:
        parts = ["all"] * count
    if len(parts) != count:
        raise DataError(
            f"{len(parts)} group labels for {count} photos: give one label per photo, in upload order "
            "(e.g. 'a a b b' for two photos each of two people), or leave the labels empty for one group"
        )
    if used is not None:
        parts = [parts[i] for i in used]
    return [[j for j, other in enumerate(parts) if other == mine and j != i] for i, mine in enumerate(parts)]
