"""Minibatches of groups (paper Algorithm 1, step 2) for batches holding groups of different sizes.

Each epoch every group's images are shuffled (and, with ``max_per_group``, only that many drawn) and cut
into chunks of a random size in [min_size, max_size]; each chunk is one group of the objective (large groups
are thus subsampled, supplement §6), and ``groups_per_batch`` chunks form a batch. Both size bounds always
hold: a leftover smaller than ``min_size`` borrows images from the group's other chunks, or, where none can
spare one, waits for a later epoch; a group with fewer than ``min_size`` images is never drawn. No batch holds
fewer than two images (BatchNorm cannot train on one): a one-image last batch joins the one before.
With ``world_size`` > 1 whole batches are dealt to ranks, so no group is split across ranks.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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
        max_per_group: int | None = None,
    ) -> None:
        if not 1 <= min_size <= max_size:
            raise ValueError(f"group sizes need 1 <= min_size <= max_size, got {min_size}..{max_size}")
        if groups_per_batch < 1:
            raise ValueError("groups_per_batch must be at least 1")
        if max_per_group is not None and max_per_group < min_size:
            raise ValueError(f"max_per_group ({max_per_group}) must be at least min_size ({min_size})")
        labels = groups.cpu().numpy()
        order = np.argsort(labels, kind="stable")
        boundaries = np.flatnonzero(np.diff(labels[order])) + 1
        members = [m for m in np.split(order, boundaries) if len(m)]
        self.members = [m for m in members if len(m) >= min_size]
        self.too_small = len(members) - len(self.members)  # groups never drawn: fewer images than min_size
        self.max_per_group = max_per_group
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
            members = members[: self.max_per_group]
            sizes = rng.integers(self.min_size, self.max_size + 1, size=len(members) // self.min_size + 1)
            sizes = chunk_sizes(len(members), sizes, self.min_size)
            chunks.extend(np.split(members[: sizes.sum()], np.cumsum(sizes)[:-1]))
        if self.shuffle:
            chunks = [chunks[i] for i in rng.permutation(len(chunks))]
        return chunks

    def _batches(self) -> list[list[np.ndarray]]:
        chunks = self._chunks()
        step = self.groups_per_batch
        batches = [chunks[i : i + step] for i in range(0, len(chunks), step)]
        if len(batches) > 1 and sum(len(c) for c in batches[-1]) < 2:
            batches[-2].extend(batches.pop())
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


def chunk_sizes(total: int, drawn: np.ndarray, min_size: int) -> np.ndarray:
    """Sizes of the chunks of a group of ``total`` images: the leading ``drawn`` sizes cut where they cover it.

    A leftover under ``min_size`` borrows images from earlier chunks that have more than ``min_size``; if they
    cannot spare enough, it is left out (so its images wait for a later epoch's shuffle)."""
    cuts = np.cumsum(drawn)
    full = int(np.searchsorted(cuts, total, side="right"))  # chunks that fit whole
    sizes = [int(v) for v in drawn[:full]]
    rest = total - sum(sizes)
    if 0 < rest < min_size:
        for j in range(len(sizes) - 1, -1, -1):
            take = min(min_size - rest, sizes[j] - min_size)
            sizes[j] -= take
            rest += take
            if rest == min_size:
                break
    if rest >= min_size:
        sizes.append(rest)
    return np.asarray(sizes, dtype=np.int64)
