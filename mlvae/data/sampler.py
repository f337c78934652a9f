"""Minibatches of groups (paper Algorithm 1, step 2) for batches holding groups of different sizes.

Each epoch every group's images are shuffled and cut into chunks of a random size in
[min_size, max_size]; each chunk is one group of the objective (large groups are thus subsampled,
supplement §6), every image is seen once per epoch, and ``groups_per_batch`` chunks form a batch.
With ``world_size`` > 1 whole batches are dealt to ranks, so no group is split across ranks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch


@dataclass
class GroupBatch:
    """Dataset ``indices`` (B,), batch-local ``group_ids`` (B,) in [0, num_groups)."""

    indices: torch.Tensor
    group_ids: torch.Tensor
    num_groups: int


class GroupBatchSampler:
    """Yields ``GroupBatch`` es of ``groups_per_batch`` groups with sizes in [min_size, max_size]."""

    def __init__(
        self,
        groups: torch.Tensor,
        groups_per_batch: int,
        min_size: int = 1,
        max_size: int = 10,
        seed: int = 0,
        shuffle: bool = True,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if not 1 <= min_size <= max_size:
            raise ValueError(f"group sizes need 1 <= min_size <= max_size, got {min_size}..{max_size}")
        if groups_per_batch < 1:
            raise ValueError("groups_per_batch must be at least 1")
        labels = groups.cpu().numpy()
        order = np.argsort(labels, kind="stable")
        boundaries = np.flatnonzero(np.diff(labels[order])) + 1
        self.members = [m for m in np.split(order, boundaries) if len(m)]
        self.groups_per_batch, self.min_size, self.max_size = groups_per_batch, min_size, max_size
        self.seed, self.shuffle, self.rank, self.world_size = seed, shuffle, rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose (deterministic) chunking and order to produce."""
        self.epoch = epoch

    def _chunks(self) -> list[np.ndarray]:
        rng = np.random.default_rng([self.seed, self.epoch] if self.shuffle else [self.seed])
        chunks: list[np.ndarray] = []
        for members in self.members:
            members = rng.permutation(members) if self.shuffle else members
            sizes = rng.integers(self.min_size, self.max_size + 1, size=len(members) // self.min_size + 1)
            cuts = np.cumsum(sizes)
            cuts = cuts[cuts < len(members)]
            chunks.extend(np.split(members, cuts))
        if self.shuffle:
            chunks = [chunks[i] for i in rng.permutation(len(chunks))]
        return chunks

    def _batches(self) -> list[list[np.ndarray]]:
        chunks = self._chunks()
        step = self.groups_per_batch
        batches = [chunks[i : i + step] for i in range(0, len(chunks), step)]
        if self.world_size > 1:  # equal batch counts on every rank; whole groups only
            usable = (len(batches) // self.world_size) * self.world_size
            batches = batches[:usable][self.rank :: self.world_size]
        return batches

    def __len__(self) -> int:
        return len(self._batches())

    def __iter__(self) -> Iterator[GroupBatch]:
        for batch in self._batches():
            sizes = np.fromiter((len(c) for c in batch), dtype=np.int64, count=len(batch))
            yield GroupBatch(
                indices=torch.from_numpy(np.concatenate(batch)),
                group_ids=torch.from_numpy(np.repeat(np.arange(len(batch)), sizes)),
                num_groups=len(batch),
            )
