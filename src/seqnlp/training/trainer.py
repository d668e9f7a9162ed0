"""The model-agnostic Trainer: updates, evaluation, best model, early stopping, atomic and
exactly resumable checkpoints, a JSONL metrics log, and data parallelism under torchrun.

Nothing here knows what the model computes (as in minGPT's trainer). The contract:

- `train_batches` is a function `epoch -> iterable of batches` (or a list, reused every
  epoch). Its order must depend on the epoch alone (e.g. shuffle with
  `np.random.default_rng(seed + epoch)`), never on global generators: a resumed run
  rebuilds the epoch's batches and skips those already done.
- Each batch is moved to the device (tensors inside dicts, lists and tuples) and the
  model is called as `model(**batch)` for a dict, `model(*batch)` for a list or tuple,
  `model(batch)` otherwise. It returns `(output, loss)` with a scalar mean loss.
- `evaluate(model, dev_batches) -> {name: float}` runs with the bare model (never the
  DDP wrapper) in eval mode under `torch.no_grad()`, on batches already on the device,
  on every rank. The default is `mean_loss`: `{"loss": mean of the batch losses}`.
- A model that carries state between batches (a language model carrying its hidden
  state across BPTT windows) defines `reset_state()`; the Trainer calls it at the start
  of each epoch and before and after each evaluation (so an `eval_every` evaluation
  restarts the training stream from a zero state). Carried state is not checkpointed:
  for such a model a resume is bit-exact only from an end-of-epoch checkpoint.
- Under torchrun each rank keeps every world_size-th batch (see
  `seqnlp.training.distributed`); rank 0 alone writes checkpoints and the log. A source
  that shards by itself (a language model gives each rank its own rows of every BPTT
  window, so that each row's carried state stays continuous) says so with a true
  `presharded` attribute: each rank then reads every batch of its own source.

Checkpoints (in `config.checkpoint_dir`): `last.pt`, the full state (model, optimizer,
schedule, counters, best score, patience, running losses, every rank's RNG states,
config), written at each epoch end, every `checkpoint_every` updates and when training
stops; `best.pt`, the weights of the best evaluation; `epoch-NNN.pt` with `keep_epochs`
(assembled and restored in `seqnlp.training.trainer_state`).

Example:
    trainer = Trainer(model, TrainerConfig(optimizer="sgd", lr=1.0, epochs=13,
                                           checkpoint_dir="runs/lm"))
    result = trainer.fit(lambda epoch: make_batches(seed=epoch), dev_batches, resume=True)
    print(result.best_score, result.best_epoch)
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from seqnlp.training import distributed as dist_utils
from seqnlp.training.batches import (
    Batch,
    BatchSource,
    EvaluateFn,
    OnDevice,
    call_model,
    chunked,
    count_examples,
    dev_batches_of,
    epoch_batches,
    mean_loss,
    move_to_device,
)
from seqnlp.training.checkpoint import LAST, load_checkpoint, seed_everything, set_deterministic
from seqnlp.training.interrupts import (
    StopRequest,
    TrainingInterrupted,
    interrupted_message,
    stop_on_signals,
)
from seqnlp.training.config import TrainerConfig
from seqnlp.training.divergence import mark_non_finite
from seqnlp.training.meters import MetricsLogger, ProgressBar, RunningMean, Throughput
from seqnlp.training.optim import (
    LRSchedule,
    build_optimizer,
    clip_gradients,
    parameter_groups,
)
from seqnlp.training.stopping import EarlyStopping
from seqnlp.training.trainer_state import TrainerState

logger = logging.getLogger(__name__)

StepCallback = Callable[["Trainer", dict[str, Any]], None]


@dataclass
class FitResult:
    """What `Trainer.fit` returns.

    Attributes:
        best_score: the best value of `config.metric` (None without evaluations).
        best_epoch, best_step: the epoch (from 0) and the number of updates done at the
            best evaluation.
        epochs_completed: full passes over the training batches.
        steps: updates done.
        stopped_early: whether early stopping ended the run.
        stopped_by_time: whether `max_minutes` ended the run.
        history: one dict per completed epoch: epoch, step, train_loss, lr, metrics
            (the epoch's last evaluation, or {}).
        evaluations: one dict per evaluation: epoch, step, metrics, best.
    """

    best_score: float | None
    best_epoch: int | None
    best_step: int | None
    epochs_completed: int
    steps: int
    stopped_early: bool
    history: list[dict[str, Any]] = field(default_factory=list)
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    stopped_by_time: bool = False


class Trainer(TrainerState):
    """Trains any `nn.Module` whose forward returns `(output, loss)`.

    Args:
        model: the module; moved to `config.device` at once. Seed before building it
            (`seqnlp.training.seed_everything`) for a reproducible initialisation.
        config: the options (see `TrainerConfig`); defaults when None.

    Attributes:
        model: the bare model (never the DDP wrapper).
        optimizer, schedule: built from the config over the trainable parameters.
        device: where the model and the batches live.
        dist: this process's rank and the world size (from torchrun's environment).
        epoch, step, batches_done: the counters (the epoch running, updates done, and
            batches of the epoch consumed across all ranks).
        stopping: the best evaluation so far and the patience counter.
        history, evaluations: as in `FitResult`.
    """

    def __init__(self, model: nn.Module, config: TrainerConfig | None = None) -> None:
        self.config = config or TrainerConfig()
        self.dist = dist_utils.dist_info_from_env()
        self.device = dist_utils.resolve_device(self.config.device, self.dist)
        self.model = model.to(self.device)
        self._params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = build_optimizer(parameter_groups(self.model, self.config), self.config)
        self.schedule = LRSchedule(self.optimizer, self.config)
        self._wrapped: nn.Module = self.model
        self._logger = MetricsLogger(None)
        self._evaluate_fn: EvaluateFn = mean_loss
        self._on_step: StepCallback | None = None
        self._stop_request = StopRequest()  # replaced by a live one during fit
        self._presharded = False
        self._reset_counters()

    # ----------------------------------------------------------------- the loop

    def fit(
        self,
        train_batches: BatchSource,
        dev_batches: Callable[[], Iterable[Batch]] | Iterable[Batch] | None = None,
        evaluate: EvaluateFn | None = None,
        *,
        resume: bool = False,
        on_step: StepCallback | None = None,
    ) -> FitResult:
        """Train for `config.epochs` epochs (or `max_steps` updates, or until early stop).

        A loss, gradient or weight that turns NaN or infinite stops the run with
        `TrainingDiverged` at the next log record, evaluation or checkpoint, before
        anything is written: the checkpoints on disk stay those of the last good state.

        Args:
            train_batches: a function `epoch -> iterable of batches`, or a list of batches
                used every epoch (see the module docstring for the rules).
            dev_batches: a list of batches, or a function `() -> iterable of batches`;
                None: no evaluation, no best model, no early stopping.
            evaluate: `evaluate(model, dev_batches) -> {name: float}`; default
                `mean_loss`. The dict must hold `config.metric`.
            resume: continue from `checkpoint_dir/last.pt` when it exists (the losses
                then equal those of an uninterrupted run, bit for bit in deterministic
                mode); start afresh when it does not.
            on_step: called on every rank after each update as
                `on_step(trainer, {"epoch", "step", "loss", "lr"})` (loss of this rank).

        Returns:
            A `FitResult`. With `restore_best`, the model ends with the best weights.

        Raises:
            TrainingDiverged: see above.
            ValueError: `config.patience` without `dev_batches` (no early stopping
                without evaluations).
        """
        if dev_batches is None and self.config.patience is not None:
            raise ValueError(f"patience {self.config.patience} (early stopping) needs "
                             "dev_batches to evaluate on")
        source = epoch_batches(train_batches)
        self._presharded = bool(getattr(train_batches, "presharded", False))
        dev = None if dev_batches is None else OnDevice(dev_batches_of(dev_batches), self.device)
        self._evaluate_fn = evaluate or mean_loss
        self._on_step = on_step
        created_group = dist_utils.init_process_group(self.dist, self.device)
        log_path = self.config.log_path if self.dist.is_main else None
        self._logger = MetricsLogger(log_path)
        try:
            self._start(resume)
            self._wrapped = dist_utils.wrap_model(
                self.model, self.dist, self.device, self.config.find_unused_parameters
            )
            with stop_on_signals(self.dist.world_size == 1) as self._stop_request:
                self._train(source, dev)
            if self._stop_request.requested:
                last = self._checkpoint_path(LAST)
                raise TrainingInterrupted(interrupted_message(
                    self._stop_request.name, self.epoch, self.step,
                    None if last is None else str(last)))
            return self._finish()
        finally:
            self._wrapped = self.model
            self._logger.close()
            if created_group:
                torch.distributed.destroy_process_group()

    def _start(self, resume: bool) -> None:
        last = self._checkpoint_path(LAST)
        if resume and last is None:
            raise ValueError("resume=True needs config.checkpoint_dir")
        if self.config.deterministic:
            set_deterministic(True)
        self._reset_counters()
        if resume and last is not None and last.is_file():
            self._restore(load_checkpoint(last, map_location=self.device))
            logger.info("resuming from %s at epoch %d, step %d", last, self.epoch + 1, self.step)
            event = "resume"
        else:
            seed_everything(self.config.seed + self.dist.rank)
            event = "start"
        if self.config.ema_decay and self._ema is None:
            self._ema = [p.detach().clone() for p in self._params]
        self._t0 = time.perf_counter() - self._elapsed
        self._throughput.reset(self._now())
        self._log(event)

    def _train(self, source: Callable[[int], Iterable[Batch]], dev: OnDevice | None) -> None:
        while (self.epoch < self.config.epochs and not self._should_stop()
               and not self._out_of_time()):
            if not self._run_epoch(source, dev):
                break
        if self._hit_max_steps() and dev is not None and self.config.eval_every is None:
            if not self.evaluations or self.evaluations[-1]["step"] != self.step:
                self._evaluate(dev)  # a run cut by max_steps still gets a score
        self._save_last()

    def _run_epoch(self, source: Callable[[int], Iterable[Batch]], dev: OnDevice | None) -> bool:
        """One pass (or the rest of one, after a resume). False when stopped mid-epoch."""
        self._call_model_hook("reset_state")
        batches = source(self.epoch)
        bar = ProgressBar(
            self.config.progress and self.dist.is_main,
            self._updates_in(batches),
            f"epoch {self.epoch + 1}",  # counted from 1, as every printed epoch line is
        )
        self._bar = bar
        if self._presharded:  # batches_done counts every rank's batches
            mine = itertools.islice(iter(batches), self.batches_done // self.dist.world_size, None)
        else:
            remaining = itertools.islice(iter(batches), self.batches_done, None)
            mine = dist_utils.shard_batches(remaining, self.dist.rank, self.dist.world_size)
        try:
            for chunk in chunked(mine, self.config.grad_accum_steps):
                if self._should_stop():
                    return False
                self._update(chunk)
                self.batches_done += len(chunk) * self.dist.world_size
                bar.update()
                self._after_update(dev)
                if self._out_of_time():
                    break  # the epoch ends here, evaluated; `_train` starts no other
        finally:
            bar.close()
        self._end_epoch(dev)
        return True

    def _update(self, chunk: list[Batch]) -> None:
        """One optimizer update over `chunk` (grad_accum_steps batches, or fewer)."""
        self._wrapped.train()
        self._lr = self.schedule.apply(self.epoch, self.step)
        self.optimizer.zero_grad(set_to_none=True)
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        for index, batch in enumerate(chunk):
            batch = move_to_device(batch, self.device)
            with self._sync_gradients(index == len(chunk) - 1):
                _, loss = call_model(self._wrapped, batch)
                (loss / len(chunk)).backward()
            total += loss.detach().double()
            ranks = self.dist.world_size
            self._throughput.add(ranks, count_examples(batch) * ranks)
        config = self.config
        self._grad_norm = clip_gradients(self._params, config.clip_norm, config.clip_value)
        self.optimizer.step()
        self.step += 1
        self._update_average()
        self._last_loss = total / len(chunk)
        mark_non_finite(self._first_bad, self.step, self._last_loss, self._grad_norm)
        self._epoch_loss.add(self._last_loss)
        self._log_loss.add(self._last_loss)

    def _after_update(self, dev: OnDevice | None) -> None:
        config = self.config
        if self._on_step is not None:
            record = {"epoch": self.epoch, "step": self.step, "loss": float(self._last_loss)}
            self._on_step(self, {**record, "lr": self._lr})
        if self.step % config.log_every == 0:
            self._log_step()
        if dev is not None and config.eval_every and self.step % config.eval_every == 0:
            self._evaluate(dev)
        if config.checkpoint_every and self.step % config.checkpoint_every == 0:
            self._save_last()

    def _end_epoch(self, dev: OnDevice | None) -> None:
        self._check_finite()
        if dev is not None and self.config.eval_every is None:
            self._evaluate(dev)
        metrics = {}
        if self.evaluations and self.evaluations[-1]["epoch"] == self.epoch:
            metrics = self.evaluations[-1]["metrics"]
        train_loss = dist_utils.all_reduce_mean(self._epoch_loss.mean, self.device)
        record = {"epoch": self.epoch, "step": self.step, "train_loss": train_loss,
                  "lr": self._lr, "metrics": metrics}
        self.history.append(record)
        self._log("epoch", train_loss=train_loss, lr=self._lr)
        self.epoch += 1
        self.batches_done = 0
        self._epoch_loss.reset()
        self._save_last()
        if self.config.keep_epochs:
            self._save_last(f"epoch-{self.epoch - 1:03d}.pt")

    def _finish(self) -> FitResult:
        self._check_finite()
        if self.config.restore_best and self._best_state is not None:
            self.model.load_state_dict(self._best_state)
        elif self._ema is not None:
            self._load_average()
        best = self.stopping
        self._log("end", best_score=best.best_score, stopped_early=best.stopped,
                  stopped_by_time=self._timed_out)
        return FitResult(
            best_score=best.best_score,
            best_epoch=best.best_epoch,
            best_step=best.best_step,
            epochs_completed=len(self.history),
            steps=self.step,
            stopped_early=best.stopped,
            history=list(self.history),
            evaluations=list(self.evaluations),
            stopped_by_time=self._timed_out,
        )

    # ----------------------------------------------------------------- evaluation

    def evaluate(self, dev_batches: Iterable[Batch], evaluate: EvaluateFn | None = None
                 ) -> dict[str, float]:
        """Evaluate the bare model on `dev_batches` (eval mode, no grad), outside `fit`."""
        batches = OnDevice(dev_batches_of(dev_batches), self.device)
        return self._run_evaluation(batches, evaluate or self._evaluate_fn)

    def _run_evaluation(self, batches: Iterable[Batch], evaluate: EvaluateFn) -> dict[str, float]:
        was_training = self.model.training
        self._call_model_hook("reset_state")
        self.model.eval()
        try:
            with torch.no_grad():
                raw = evaluate(self.model, batches)
        finally:
            self.model.train(was_training)
            self._call_model_hook("reset_state")
        return {str(name): float(value) for name, value in raw.items()}

    def _evaluate(self, dev: OnDevice) -> None:
        """Evaluate, then update the best model, the patience counter and the schedule."""
        self._check_finite()
        with self._averaged():  # with ema_decay, the average is scored and kept
            metrics = self._run_evaluation(dev, self._evaluate_fn)
            if self.config.metric not in metrics:
                raise ValueError(
                    f"evaluation returned no {self.config.metric!r} (config.metric); "
                    f"it returned {sorted(metrics)}"
                )
            score = metrics[self.config.metric]
            improved = self.stopping.update(score, self.epoch, self.step)
            if improved:
                self._keep_best(metrics)
        self.schedule.observe(score)
        if self.stopping.stopped:
            logger.info("early stop at epoch %d, step %d", self.epoch + 1, self.step)
        record = {"epoch": self.epoch, "step": self.step, "metrics": metrics, "best": improved}
        self.evaluations.append(record)
        self._log("eval", metrics=metrics, best=improved)

    # ----------------------------------------------------------------- weight averaging

    @torch.no_grad()
    def _update_average(self) -> None:
        """Move the average of the weights towards the weights (with `ema_decay`)."""
        if self._ema is None:
            return
        decay = min(self.config.ema_decay, (1 + self.step) / (10 + self.step))
        for average, param in zip(self._ema, self._params):
            average.lerp_(param.detach(), 1.0 - decay)

    @torch.no_grad()
    def _load_average(self) -> None:
        assert self._ema is not None
        for param, average in zip(self._params, self._ema):
            param.copy_(average)

    @contextlib.contextmanager
    def _averaged(self) -> Iterator[None]:
        """The model holds the averaged weights inside (the trained ones come back after)."""
        if self._ema is None:
            yield
            return
        trained = [p.detach().clone() for p in self._params]
        self._load_average()
        try:
            yield
        finally:
            with torch.no_grad():
                for param, value in zip(self._params, trained):
                    param.copy_(value)

    # ----------------------------------------------------------------- small helpers

    def _reset_counters(self) -> None:
        self._timed_out = False
        self.epoch = 0
        self.step = 0
        self.batches_done = 0
        self.stopping = EarlyStopping(self.config.mode, self.config.patience)
        self.history: list[dict[str, Any]] = []
        self.evaluations: list[dict[str, Any]] = []
        self._best_state: dict[str, torch.Tensor] | None = None
        self._ema: list[torch.Tensor] | None = None  # the averaged weights (ema_decay)
        self._epoch_loss = RunningMean()
        self._log_loss = RunningMean()
        self._elapsed = 0.0
        self._lr = float(self.optimizer.param_groups[0]["lr"])
        self._grad_norm: torch.Tensor | None = None
        self._first_bad = torch.zeros((), dtype=torch.int64, device=self.device)
        self._bar = ProgressBar(False, None, "")
        self._throughput = Throughput()
        self._saved: dict[str, tuple[int, ...]] = {}

    def _should_stop(self) -> bool:
        return (self.stopping.stopped or self._hit_max_steps()
                or self._stop_request.requested)

    def _out_of_time(self) -> bool:
        """Whether the `max_minutes` budget is spent (on any rank); remembered once true."""
        if self.config.max_minutes is None or self._timed_out:
            return self._timed_out
        spent = float(self._now() >= 60.0 * self.config.max_minutes)
        self._timed_out = dist_utils.all_reduce_mean(spent, self.device) > 0.0
        return self._timed_out

    def _hit_max_steps(self) -> bool:
        return self.config.max_steps is not None and self.step >= self.config.max_steps

    def _updates_in(self, batches: Iterable[Batch]) -> int | None:
        if not hasattr(batches, "__len__"):
            return None
        per_rank = len(batches)  # type: ignore[arg-type]
        if not self._presharded:
            per_rank //= self.dist.world_size
        return -(-per_rank // self.config.grad_accum_steps)

    def _call_model_hook(self, name: str) -> None:
        hook = getattr(self.model, name, None)
        if callable(hook):
            hook()

    def _sync_gradients(self, last: bool) -> contextlib.AbstractContextManager[Any]:
        """DDP all-reduces gradients only on the last batch of an accumulated update."""
        if last or not self.dist.enabled:
            return contextlib.nullcontext()
        return self._wrapped.no_sync()  # type: ignore[operator]

    def _now(self) -> float:
        return time.perf_counter() - self._t0

    def _log_step(self) -> None:
        self._check_finite(weights=False)
        loss = dist_utils.all_reduce_mean(self._log_loss.mean, self.device)
        grad_norm = float("nan") if self._grad_norm is None else float(self._grad_norm)
        rates = self._throughput.rates(self._now())
        self._log("step", loss=loss, lr=self._lr, grad_norm=grad_norm, **rates)
        self._bar.set_postfix(loss=loss, lr=self._lr)
        self._log_loss.reset()
        self._throughput.reset(self._now())

    def _log(self, event: str, **values: Any) -> None:
        record = {"event": event, "epoch": self.epoch, "step": self.step,
                  "time": round(self._now(), 4), **values}
        self._logger.write(record)
