"""Grouped image datasets and the group batch sampler."""
from .grouped import GroupedImages, Splits
from .sampler import GroupBatch, GroupBatchSampler
from .loading import load_splits

__all__ = ["GroupedImages", "Splits", "GroupBatch", "GroupBatchSampler", "load_splits"]
