"""Evaluation of a trained checkpoint: the paper's figures, probes, judges, held-out ELBO and the report, and
the ``mlvae-evaluate`` command line. Uses everything below it; the demo shares its latent operations."""
