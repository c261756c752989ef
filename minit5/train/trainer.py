"""The training loop: one step = batch(step) -> loss -> backward -> optimizer, and bookkeeping
that never loses work.

- Progress bar with loss, learning rate, tokens/s and ETA (tqdm).
- The loss stays on the device; it is read to the host (one copy of the losses since the last
  read) only every `log_every` steps, and before every evaluation and checkpoint.
- Every `log_every` steps a JSON line in <run>/log.jsonl; at the end a loss-curve PNG.
- Every `eval_every` steps the evaluation callback (task metrics, or validation loss).
- Every `checkpoint_every` steps an atomic checkpoint; the last `keep_last` are kept.
- `resume=True` continues from the newest checkpoint bit for bit: batches and dropout masks are
  functions of (seed, step), and model and optimizer state are restored exactly. A damaged
  newest checkpoint is skipped with a warning naming it (the one before it is used); a run
  that starts fresh, even after a kill before its first checkpoint, starts a fresh log.
- A NaN or infinite loss stops the run at the next read, with a message naming the first bad
  step; nothing computed after it is ever saved, so the last good checkpoint stays the newest
  one. A loss read at its own step (every step with log_every=1) stops before its update.
- `stop`: an object with `is_set()` (a threading.Event) that someone else sets to ask for a
  clean stop: the current step finishes, a checkpoint is saved, `train` returns "interrupted".
  The command line sets it on Ctrl-C (minit5.commands.ctrl_c); the trainer installs no signal
  handler, so it runs in any thread.
- `before_step(step)`: an optional callable run at the start of every step, before the
  forward pass, to change what trains (gradual unfreezing, minit5.train.unfreezing). It must
  be a pure function of the step, so a resumed run sets exactly what the uninterrupted run
  set at that step.
- Messages go to the `minit5.train` logger (warnings reach stderr without any set-up).
- Under `mpiexec -n N` (minit5.train.distributed) each rank computes its share of the global
  batch and one all-reduce sums the gradients, so every rank applies the same update, that of
  the whole batch; rank 0 alone writes checkpoints, logs and the plot, every rank resumes from
  them, and a run may be resumed with another N.
"""
from __future__ import annotations

import json
import logging
import pathlib
import time

import numpy as np

from minit5.backend import device_of, get_array_module, to_numpy
from minit5.io.atomic_file import write_text
from minit5.io.folder_lock import hold_folder
from minit5.optim import clip_grad_norm
from minit5.optim.schedules import Constant, InverseSqrt, LinearWarmupDecay
from minit5.train import checkpoint as ckpt
from minit5.train import distributed
from minit5.train.streams import DROPOUT, step_rng

log = logging.getLogger(__name__)


class NonFiniteLoss(RuntimeError):
    pass


def make_schedule(name: str, peak: float, warmup: int, total: int):
    """step -> learning rate, one of minit5.optim.schedules; `peak` is its largest rate.

    inverse_sqrt (§3.1.2): peak * sqrt(warmup / max(step, warmup)), the peak-rate form of the
    paper's 1/sqrt(max(step, warmup)), equal to it when peak = 1/sqrt(warmup) (0.01 with the
    paper's 10^4 warm-up steps). constant (§3.1.3, fine-tuning): peak. linear: warm up
    linearly to peak, then decay linearly to 0 at `total`.
    """
    if name == "inverse_sqrt":
        return InverseSqrt(warmup, peak=peak)
    if name == "constant":
        return Constant(peak)
    if name == "linear":
        return LinearWarmupDecay(peak, warmup, total)
    raise ValueError(f"unknown schedule {name!r}: use inverse_sqrt, constant or linear")


class Trainer:
    def __init__(self, model, optimizer, stream, config, run_dir, evaluate=None,
                 progress=True, name="train", stop=None, comm=None, before_step=None):
        self.model, self.optimizer, self.stream = model, optimizer, stream
        self.comm = comm or distributed.world(device_of(next(iter(model.parameters())).data))
        self.config, self.evaluate, self.progress, self.name = config, evaluate, progress, name
        self.run_dir = pathlib.Path(run_dir)
        self.schedule = make_schedule(config.schedule, config.lr, config.warmup_steps,
                                      config.steps)
        self.history = []          # one dict per logged step
        self.evals = []            # one dict per evaluation
        self.step = 0
        self.stop = stop           # .is_set() -> finish this step, save, return "interrupted"
        self.before_step = before_step   # step -> None, run first in every step
        self._unread = []          # (step, loss on the device) not yet read to the host

    # ---- state ------------------------------------------------------------------------
    def _trainer_state(self):
        return {"config": self.config.to_dict(), "history": self.history, "evals": self.evals}

    def save(self):
        if not self.comm.is_root:
            return ckpt.checkpoint_dir(self.run_dir, self.step)
        return ckpt.save_checkpoint(self.run_dir, self.step, self.model, self.optimizer,
                                    self._trainer_state(), self.config.keep_last)

    def resume(self) -> bool:
        """Load the newest readable checkpoint of this run (a damaged newer one is skipped with
        a warning naming it); False when there is none."""
        found = ckpt.newest_good_checkpoint(self.run_dir)
        if found is None:
            return False
        try:
            self.model.load_state_dict(found.weights, strict=True)
            self.optimizer.load_state_dict(found.optimizer)
        except (KeyError, ValueError) as e:
            raise ValueError(f"{found.directory} does not fit this run's model and optimizer "
                             f"({e.args[0] if e.args else e}); resume with the settings it was "
                             "saved with (see its trainer.json)") from None
        state = found.trainer
        self.step, self.history, self.evals = state["step"], state["history"], state["evals"]
        self._rewrite_log()        # drop log lines written after this checkpoint
        return True

    # ---- the loop -----------------------------------------------------------------------
    def train_step(self, step, read_loss=True):
        """One update. Returns (loss, tokens, grad_norm); the loss is a float when `read_loss`
        (read before the update, which is not applied if it is not finite) and None otherwise
        (it stays on the device until the next read); grad_norm likewise stays on the device
        on a GPU (clip_grad_norm), and is None without clipping.

        With N ranks this rank computes its rows of the step's batch; its mean loss is scaled
        by its share of the batch's scored tokens, so the all-reduced sums are the whole
        batch's mean loss and its gradient (minit5.train.distributed)."""
        if self.before_step is not None:
            self.before_step(step)
        batch = self.stream.batch(step)
        share, weight = self.comm.share(batch)
        self.optimizer.lr = self.schedule(step)
        self.model.train()
        self.model.set_dropout_rng(self.comm.dropout_masks(
            step_rng(self.config.seed, step, DROPOUT), len(batch)))
        self.model.zero_grad()
        parameters = list(self.model.parameters())
        if weight:
            scaled = self.model(**share.model_kwargs()).loss * weight
            scaled.backward()
            loss = scaled.data
        else:                     # no scored token in this rank's rows: it adds nothing
            loss = get_array_module(parameters[0].data).zeros((), parameters[0].dtype)
        self._unread.append((step, self.comm.reduce_gradients(parameters, loss)))
        loss = self.read_losses() if read_loss else None
        grad_norm = None
        if self.config.clip_grad_norm > 0:
            # a float on a CPU, a 0-d device array on a GPU (read when logged: no sync here)
            grad_norm = clip_grad_norm(self.model.parameters(), self.config.clip_grad_norm)
        self.optimizer.step()
        tokens = batch.num_tokens
        return loss, tokens, grad_norm

    def read_losses(self):
        """Copy the losses not yet read to the host, in one transfer; return the newest.

        Raises NonFiniteLoss naming the first step whose loss is NaN or infinite.
        """
        if not self._unread:
            return None
        steps = [step for step, _ in self._unread]
        xp = get_array_module(self._unread[0][1])
        values = to_numpy(xp.stack([loss for _, loss in self._unread]))   # (n,)
        self._unread = []
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            first, now = steps[bad[0]], steps[-1]
            when = ("training stopped before applying this update" if first == now else
                    f"training stopped at step {now}, the next read of the loss (every "
                    f"log_every={self.config.log_every} steps), before saving anything")
            raise NonFiniteLoss(
                f"the loss became {values[bad[0]]} at step {first}: {when}. The newest "
                "checkpoint is the last good state; resume from it with a lower learning rate "
                "(--lr=...) or gradient clipping (--clip_grad_norm=1.0)")
        return float(values[-1])

    def train(self, resume=False):
        """Run to config.steps. Returns "done", "interrupted" or raises NonFiniteLoss.

        Rank 0 holds the run folder for the whole run (`minit5.io.folder_lock`): a second
        run started into the same folder is refused with an error naming this one's pid."""
        self.comm.check_same_config(self.config.to_dict())
        if not self.comm.is_root:
            return self._train(resume)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with hold_folder(self.run_dir, "run folder"):
            return self._train(resume)

    def _train(self, resume):
        resumed = resume and self.resume()
        if resume and not resumed and self.comm.is_root:
            log.warning("[%s] no checkpoint in %s to resume from: starting fresh", self.name,
                        self.run_dir)
        if not resumed:
            self._rewrite_log()    # a fresh start (even after a kill) begins a fresh log.jsonl
        cfg = self.config
        self._unread = []
        bar = self._progress_bar()
        status = "done"
        tokens_seen, started = 0, time.perf_counter()
        try:
            while self.step < cfg.steps:
                step = self.step + 1
                last = step == cfg.steps
                logs = step % cfg.log_every == 0 or last
                evaluates = self.evaluate is not None and (step % cfg.eval_every == 0 or last)
                saves = step % cfg.checkpoint_every == 0 or last
                loss, tokens, grad_norm = self.train_step(
                    step, read_loss=logs or evaluates or saves)
                stopping = self.comm.any(self.stop is not None and self.stop.is_set())
                if stopping and not saves:
                    self.read_losses()                  # never save a non-finite state
                    saves = True
                self.step = step
                tokens_seen += tokens
                rate = tokens_seen / max(time.perf_counter() - started, 1e-9)
                if bar is not None:
                    bar.update(1)
                if logs:
                    if bar is not None:
                        bar.set_postfix(loss=f"{loss:.3f}", lr=f"{self.optimizer.lr:.2e}",
                                        tok_s=f"{rate:,.0f}")
                    self._log({"step": step, "loss": loss, "lr": self.optimizer.lr,
                               "tokens_per_s": rate,
                               "grad_norm": None if grad_norm is None else float(grad_norm)})
                if evaluates:
                    self.evals.append({"step": step, **self.evaluate(self.model)})
                    self._log({"step": step, "eval": self.evals[-1]})
                if saves:
                    self.save()
                if stopping:
                    if self.comm.is_root:
                        log.warning("[%s] interrupted: saved step %d to %s; continue with "
                                    "--resume", self.name, step,
                                    ckpt.checkpoint_dir(self.run_dir, step))
                    status = "interrupted"
                    break
        finally:
            if bar is not None:
                bar.close()
            self.plot()
        return status

    def _progress_bar(self):
        if not self.progress or not self.comm.is_root:
            return None
        from tqdm import tqdm
        return tqdm(total=self.config.steps, initial=self.step, desc=self.name, unit="step",
                    dynamic_ncols=True)

    # ---- logs and plots -----------------------------------------------------------------
    @property
    def log_path(self):
        return self.run_dir / "log.jsonl"

    def _log(self, record):
        if "eval" not in record:
            self.history.append(record)
        if not self.comm.is_root:
            return
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def _rewrite_log(self):
        if not self.comm.is_root:
            return
        records = [*self.history, *({"step": e["step"], "eval": e} for e in self.evals)]
        records.sort(key=lambda r: (r["step"], "eval" in r))
        write_text(self.log_path, "".join(json.dumps(r) + "\n" for r in records))

    def plot(self, path=None):
        if not self.history or not self.comm.is_root:
            return None
        from minit5.train.plot import plot_loss
        return plot_loss({self.name: self.history}, path or self.run_dir / "loss.png")
