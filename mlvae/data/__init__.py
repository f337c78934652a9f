"""Grouped image datasets and the group batch sampler."""
from mlvae.data.grouped import GroupedImages, Splits
from mlvae.data.loading import load_splits
from mlvae.data.sampler import GroupBatch, GroupBatchSampler

__all__ = ["GroupedImages", "Splits", "GroupBatch", "GroupBatchSampler", "load_splits"]
