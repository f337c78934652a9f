"""In-memory grouped images: a uint8 image tensor and a group label per image."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class GroupedImages:
    """``images`` uint8 (N, C, H, W); ``groups`` long (N,) indexing ``group_names``."""

    images: torch.Tensor
    groups: torch.Tensor
    group_names: list[str]

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def num_groups(self) -> int:
        """Every group name, including groups with no image in this subset."""
        return len(self.group_names)

    @property
    def group_count(self) -> int:
        """Groups with at least one image here."""
        return int(torch.unique(self.groups).numel())

    def members(self, group: int) -> torch.Tensor:
        """Indices (k,) of the images of one group."""
        return (self.groups == group).nonzero().flatten()

    def subset(self, indices: torch.Tensor) -> GroupedImages:
        """The images at ``indices``, keeping all group names."""
        return GroupedImages(self.images[indices], self.groups[indices], self.group_names)


@dataclass
class Splits:
    """Train / validation / test parts and a JSON-able record of how they were made."""

    train: GroupedImages
    val: GroupedImages
    test: GroupedImages
    record: dict = field(default_factory=dict)
