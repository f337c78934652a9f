"""Training: the loop, its saved state and resume, the baselines' trainers, distributed data parallel, and
the ``mlvae-train`` command line. Uses the model, the data and checkpoint I/O; evaluation builds on it."""
