"""The training loop: epochs of group minibatches, validation ELBO, a checkpoint per epoch (``checkpointing``)."""
from __future__ import annotations

import json
import logging
import time
from contextlib import nullcontext
from pathlib import Path

import torch
from tqdm import tqdm

from mlvae.checkpoint.folder import SPLIT_NAME, write_json
from mlvae.config import RunConfig
from mlvae.data import GroupBatchSampler, GroupedImages, Splits
from mlvae.data.images import to_float
from mlvae.device import pick_device
from mlvae.model.model_types import build_model
from mlvae.model.networks import output_layer_weight
from mlvae.model.objective import ObjectiveTerms, annealed_weight, group_elbo, style_weighted_loss
from mlvae.training import checkpointing, distributed
from mlvae.training.adversarial import AdversarialTerm
from mlvae.training.averaging import WeightAverage
from mlvae.training.compile import COMPILE_ERRORS, compile_failed, compile_in_place
from mlvae.training.dataset_elbo import accumulate_elbo, fixed_batches, summarise
from mlvae.training.decoder_term import DecoderTerm, TermSetup, TermStep
from mlvae.training.feature_consistency import FeatureConsistencyTerm
from mlvae.training.frequency import FocalFrequencyTerm
from mlvae.training.state import Progress, TrainingError, check_output_folder, checkpoint_bytes
from mlvae.training.warm_start import warm_start

log = logging.getLogger(__name__)

# The terms a run may add to the decoder's loss beyond eq. 3, each off unless its flags ask for it; the adaptive
# ones are added in this order (mlvae.training.decoder_term says what a term implements)
DECODER_TERMS: tuple[type[DecoderTerm], ...] = (AdversarialTerm, FeatureConsistencyTerm, FocalFrequencyTerm)


class Trainer:
    """Trains one run into ``out``: ``best/`` (validation-selected), ``last/`` (resumable), ``metrics.jsonl``."""

    # whether --ema-decay and --adversarial-weight apply (not to models validated by test-time inference)
    averages_weights = True

    def __init__(self, config: RunConfig, splits: Splits, out: str | Path, rank: int = 0, world_size: int = 1) -> None:
        self.config, self.splits, self.out = config, splits, Path(out)
        self.rank, self.world_size = rank, world_size
        self.is_main = rank == 0
        tc = config.train
        self.device = distributed.rank_device(pick_device(tc.device))
        torch.manual_seed(tc.seed)
        self.model = build_model(config.model).to(self.device)
        # channels-last convolutions are oneDNN's fast path on CPU and native on recent GPUs
        self.memory_format = torch.channels_last if config.model.architecture == "conv" else torch.contiguous_format
        self.model = self.model.to(memory_format=self.memory_format)
        self.module = self.model  # what holds the weights; DDP wraps ``model`` below
        self.compiled = tc.compile and compile_in_place(self.module)
        if world_size > 1:
            self.model = distributed.wrap(self.module, self.device)
            if rank > 0:  # same initial weights (DDP broadcasts rank 0's), but each rank its own noise
                torch.manual_seed(tc.seed + 1_000_033 * rank)
        self.average = self._weight_average()
        setup = TermSetup(config, self.device, splits, world_size, self.averages_weights)
        self.terms = [term for cls in DECODER_TERMS if (term := cls.build(setup)) is not None]
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=tc.lr, betas=(0.9, 0.999), eps=1e-8)
        self.train_data = _on_device(_limit(splits.train, tc.max_train_images, tc.seed), self.device)
        self.val_data = _on_device(_limit(splits.val, tc.max_val_images, tc.seed), self.device)
        if len(self.train_data) == 0 or len(self.val_data) == 0:
            raise TrainingError("the training and validation splits both need images; add groups or change fractions")
        self.sampler = GroupBatchSampler(
            self.train_data.groups, tc.groups_per_batch, tc.min_group_size, tc.max_group_size, tc.seed,
            rank=rank, world_size=world_size, max_per_group=tc.max_images_per_group,
        )
        if self.sampler.too_small and self.is_main:
            log.warning("%d training group(s) have fewer than --min-group-size %d images and are never drawn",
                        self.sampler.too_small, tc.min_group_size)
        if not self.sampler.members:
            raise TrainingError(f"no training group has --min-group-size {tc.min_group_size} images; lower it")
        self.progress = Progress()
        self.autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16) if self.device.type == "cuda" else nullcontext()
        )

    def _weight_average(self) -> WeightAverage | None:
        decay = self.config.train.ema_decay
        if not decay:
            return None
        if not self.averages_weights:
            raise TrainingError(f"--ema-decay does not apply to --model {self.config.model.model_type}: leave it out")
        with torch.random.fork_rng(devices=[]):  # the average's copy must not move the run's random stream
            copy = build_model(self.config.model).to(self.device).to(memory_format=self.memory_format)
        return WeightAverage(copy, self.module, decay)

    @property
    def validated(self) -> torch.nn.Module:
        """What is validated and saved as ``best/``: the weight average under --ema-decay, else the trained module."""
        return self.module if self.average is None else self.average.model

    # ---- checkpoints (mlvae.training.checkpointing, mlvae.training.warm_start) ----------------------------
    def rng_states(self) -> dict[str, torch.Tensor]:
        """Every rank's RNG state (a collective under torchrun)."""
        return checkpointing.rng_states(self.device)

    def save_last(self, rng: dict[str, torch.Tensor] | None = None) -> None:
        """Resumable state in ``last/`` (``rng``: from ``rng_states``, gathered now when not given)."""
        checkpointing.save_last(self.out / "last", self.module, self.config, self.optimizer, self.progress,
                                self.rng_states() if rng is None else rng, self.average, self.terms)

    def save_best(self) -> None:
        """The validation-selected model in ``best/``, with the group split it was trained on."""
        checkpointing.save_best(self.out / "best", self.validated, self.config, self.splits.record)

    def resume(self) -> bool:
        """Load ``last/`` if present; returns whether a run was resumed."""
        progress = checkpointing.resume(self.out / "last", self.module, self.optimizer, self.device, self.rank,
                                        self.average, self.terms)
        if progress is not None:
            self.progress = progress
        return progress is not None

    def warm_start(self, checkpoint: str | Path) -> None:
        """Start from the weights of ``checkpoint`` (``--init-from``); the optimiser stays fresh."""
        folder = warm_start(self.module, self.config.model, self.splits.record, checkpoint, self.device)
        if self.average is not None:
            self.average.reset(self.module)
        for term in self.terms:
            term.warm_start(folder)

    # ---- loop --------------------------------------------------------------------------------------
    def _log_metrics(self, record: dict) -> None:
        with open(self.out / "metrics.jsonl", "a") as handle:
            handle.write(json.dumps(record) + "\n")

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Validation ELBO on a fixed grouping with fixed noise: per group and per image.

        Under torchrun the batches are dealt to ranks and the sums all-reduced: every rank gets the same
        figures, equal to a single-process run's (each batch's noise is seeded by its index).
        """
        tc = self.config.train
        distributed.broadcast_buffers(self.module)  # validate (and save) rank 0's BatchNorm statistics
        if self.average is not None:
            distributed.broadcast_buffers(self.average.model)
        self.model.eval()

        def objective(batch, generator):
            with self.autocast:
                return self.validation_objective(self._inputs(batch), batch, generator)

        sums = accumulate_elbo(fixed_batches(self.val_data.groups, tc), objective, tc.seed, self.device,
                               keep=lambda i: i % self.world_size == self.rank)
        self.model.train()
        return summarise(distributed.all_reduce_sum(sums, self.device), "val")

    def fit(self) -> dict[str, float]:
        """Train to ``config.train.epochs`` (or ``max_steps``); returns the last validation metrics."""
        tc = self.config.train
        if self.is_main:
            check_output_folder(self.out, needed_bytes=checkpoint_bytes(self.config))
            write_json(self.out / "config.json", self.config.to_dict())
            write_json(self.out / SPLIT_NAME, self.splits.record)
            log.info(
                "effective batch: %d rank(s) x %d groups = %d groups per optimiser step",
                self.world_size, tc.groups_per_batch, self.world_size * tc.groups_per_batch,
            )
        metrics: dict[str, float] = {}
        self.model.train()
        start = time.perf_counter() - self.progress.elapsed_s
        while self.progress.epoch < tc.epochs and not self._step_limit_reached():
            epoch = self.progress.epoch
            self.sampler.set_epoch(epoch)
            total = len(self.sampler)
            bar = tqdm(
                total=total, initial=self.progress.batch_in_epoch, desc=f"epoch {epoch + 1}/{tc.epochs}",
                disable=not self.is_main, mininterval=1.0, dynamic_ncols=True,
            )
            seen, epoch_start, epoch_cpu, running = 0, time.perf_counter(), time.process_time(), None
            for i, batch in enumerate(self.sampler):
                if i < self.progress.batch_in_epoch:
                    continue  # resumed mid-epoch: this batch was already trained on
                loss = self.train_step(batch)
                running = loss if running is None else 0.98 * running + 0.02 * loss
                seen += batch.indices.numel()
                self.progress.batch_in_epoch = i + 1
                self.progress.step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{running:.1f}", refresh=False)
                if self._step_limit_reached():
                    break
            bar.close()
            epoch_done = self.progress.batch_in_epoch >= total
            throughput = seen * self.world_size / max(time.perf_counter() - epoch_start, 1e-9)
            train_cpu_s = time.process_time() - epoch_cpu  # this process's, all threads: load-independent
            if epoch_done:
                self.progress.epoch += 1
                self.progress.batch_in_epoch = 0
            metrics = self.validate()  # the same on every rank, so is the best-checkpoint decision
            self.progress.elapsed_s = time.perf_counter() - start
            improved = metrics["val_elbo"] > self.progress.best_val_elbo
            if improved:
                self.progress.best_val_elbo = metrics["val_elbo"]
            rng = self.rng_states()  # collective: every rank's noise state, so a resumed run continues it
            if self.is_main:
                if improved:
                    self.save_best()
                self.save_last(rng)
                record = {
                    "epoch": epoch + 1, "step": self.progress.step, "train_loss": running,
                    "train_images_per_s": throughput, "train_images": seen, "train_cpu_s": train_cpu_s,
                    "elapsed_s": self.progress.elapsed_s, "best": improved,
                    "groups_per_step": self.world_size * tc.groups_per_batch, **metrics,
                    **{name: value for term in self.terms for name, value in term.summary().items()},
                }
                self._log_metrics(record)
                log.info(
                    "epoch %d: val ELBO %.2f per group, %.2f per image (%s); %.0f images/s",
                    epoch + 1, metrics["val_elbo"], metrics["val_elbo_per_image"],
                    "best so far" if improved else "not better", throughput,
                )
        return metrics

    def batch_objective(self, x: torch.Tensor, batch) -> ObjectiveTerms:
        """The training objective of one batch (SVI and SVI-Encode feed their models differently)."""
        return self.model(x, batch.group_ids.to(self.device), batch.num_groups)

    def validation_objective(self, x: torch.Tensor, batch, generator: torch.Generator) -> ObjectiveTerms:
        """The ELBO of one validation batch (models without an amortised encoder override this)."""
        return group_elbo(self.validated, x, batch.group_ids.to(self.device), batch.num_groups, generator)

    def _inputs(self, batch, data: GroupedImages | None = None) -> torch.Tensor:
        images = (data or self.val_data).images[batch.indices.to(self.device)]
        return to_float(images).contiguous(memory_format=self.memory_format)

    def _with_terms(self, loss: torch.Tensor, step: TermStep, in_elbo_units: bool) -> torch.Tensor:
        """``loss`` plus the decoder terms (``DECODER_TERMS``) in the ELBO's units, or plus the others, each weighted
        relative to ``loss``'s gradient at the decoder's last layer: departures from eq. 3."""
        chosen = [term for term in self.terms if term.in_elbo_units == in_elbo_units]
        if not chosen:
            return loss
        if not in_elbo_units:
            step.elbo_loss, step.last_layer = loss, output_layer_weight(self.module.decoder)
        total = loss
        for term in chosen:
            added = term.loss(step)
            if added is not None:
                total = total + added
        return total

    def _step_limit_reached(self) -> bool:
        return self.config.train.max_steps is not None and self.progress.step >= self.config.train.max_steps

    def train_step(self, batch) -> float:
        """One gradient step on one minibatch of groups; returns the loss (over all ranks' groups)."""
        tc = self.config.train
        x = self._inputs(batch, self.train_data)
        if tc.flip:  # a random half of the images mirrored left-right
            mirror = torch.rand(x.shape[0], device=x.device) < 0.5
            x = torch.where(mirror[:, None, None, None], x.flip(-1), x).contiguous(memory_format=self.memory_format)
        with self.autocast:
            try:
                terms = self.batch_objective(x, batch)
            except COMPILE_ERRORS as exc:
                if not self.compiled:
                    raise
                # a graph torch.compile cannot build (e.g. on a new batch shape): this step again, eagerly (its
                # BatchNorm layers may have updated their running statistics once more on this batch)
                self.compiled = False
                compile_failed(exc)
                terms = self.batch_objective(x, batch)
        weight = annealed_weight(tc.style_kl_weight, tc.style_kl_anneal_steps, self.progress.step)
        # under torchrun: weighted so DDP's gradient is that of the mean over all ranks' groups (see there)
        step = TermStep(x, terms, self.progress.step)
        objective = self._with_terms(style_weighted_loss(terms, weight), step, in_elbo_units=True)
        loss, global_loss = distributed.loss_for_group_mean(objective, terms.num_groups)
        loss = self._with_terms(loss, step, in_elbo_units=False)
        if not torch.isfinite(global_loss):  # the same on every rank, so all ranks stop together
            raise TrainingError(
                f"the loss became {global_loss.item()} at step {self.progress.step + 1} "
                f"(epoch {self.progress.epoch + 1}); "
                f"training stopped. The last good checkpoint is in {self.out / 'last'}: lower --lr and --resume"
            )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self.average is not None:
            self.average.update(self.module)
        for term in self.terms:
            term.after_step(step)
        return global_loss.item()


def _limit(data: GroupedImages, limit: int | None, seed: int) -> GroupedImages:
    if limit is None or limit >= len(data):
        return data
    keep = torch.from_numpy(__import__("numpy").random.default_rng(seed).permutation(len(data))[:limit]).sort().values
    return data.subset(keep)


def _on_device(data: GroupedImages, device: torch.device) -> GroupedImages:
    return GroupedImages(data.images.to(device), data.groups, data.group_names)
