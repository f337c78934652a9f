"""The feature-consistency term (Hou et al. 2017; ``--feature-weight``, ``--feature-net``): a labelled departure
from the paper, off by default. The squared distance between the embeddings of each photo and of its
reconstruction in the project's face network (``mlvae.training.face_network``), weighted relative to the ELBO's
gradient at the decoder's last layer, so that what tells people apart counts, not only the pixels."""
from __future__ import annotations

import torch

from mlvae.training.decoder_term import DecoderTerm, TermSetup, TermStep
from mlvae.training.face_network import FaceFeatureNet, feature_distance, load_face_features, people_of


class FeatureConsistencyTerm(DecoderTerm):
    """``--feature-weight`` times the adaptive weight times the feature distance per group."""

    def __init__(self, weight: float, net: FaceFeatureNet) -> None:
        self.weight, self.net = weight, net

    @classmethod
    def build(cls, setup: TermSetup) -> FeatureConsistencyTerm | None:
        """The term of ``--feature-weight`` with the face network of ``--feature-net``, which must have learnt this
        run's training people only (FeatureNetError otherwise)."""
        tc = setup.config.train
        if not tc.feature_weight:
            return None
        net = load_face_features(tc.feature_net, set(people_of(setup.splits.train)))
        return cls(tc.feature_weight, net.to(setup.device))

    def loss(self, step: TermStep) -> torch.Tensor:
        """w * lambda * the mean over groups of the summed feature distances: scalar."""
        distance = feature_distance(self.net, step.terms.reconstruction, step.x).sum() / step.terms.num_groups
        return self.weight * step.relative(distance) * distance
