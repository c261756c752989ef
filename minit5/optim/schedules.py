"""Learning-rate schedules: small callables mapping a step number to a learning rate.

    schedule = InverseSqrt(warmup=10_000)
    for step in range(num_steps):
        opt.lr = schedule(step)       # an optimizer with an external lr (Adafactor:
        ...                           # relative_step=False, AdamW)

Each schedule exists as a class (`InverseSqrt`, `Constant`, `LinearWarmupDecay`) and as a plain
function of the step (`inverse_sqrt`, `linear_warmup_decay`); `constant(lr)` returns the
`Constant` schedule. Steps count from 0, the trainer's global step. This is the one
implementation: the trainer's `make_schedule` (minit5.train.trainer) builds these classes.
"""
from __future__ import annotations

import math


def _check_step(step, name):
    if step < 0:
        raise ValueError(f"{name}: step must be >= 0, got {step!r}")


def inverse_sqrt(step: int, warmup: int = 10_000, peak: float | None = None) -> float:
    """T5's pre-training schedule (paper §3.1.2): lr = 1 / sqrt(max(n, k)), k = `warmup`.

    The paper's form has no separate peak: the rate is 1/sqrt(k) during the k warm-up steps
    (0.01 for the paper's k = 10^4), then decays as 1/sqrt(n). Used with Adafactor and
    `scale_parameter=True` in T5; it is the relative step size min(1e-2, 1/sqrt(t)) of the
    Adafactor paper with the 1e-2 cap reached at t = 10^4.

    peak: the peak-rate form, peak * sqrt(k / max(n, k)): the same curve scaled so that its
    warm-up rate is `peak`. It equals the paper's exactly when peak = 1/sqrt(k) (0.01 with
    k = 10^4), and lets a short run keep a small warm-up without a large rate: with k = 100 the
    paper's form gives 1/sqrt(400) = 0.05 at step 400, the peak form with peak 0.01 gives
    0.01 * sqrt(100 / 400) = 0.005. The trainer uses this form (TrainConfig.lr is the peak).
    """
    if warmup < 1:
        raise ValueError(f"inverse_sqrt: warmup must be >= 1 (1/sqrt(0) is undefined), got "
                         f"{warmup!r}; T5 uses 10_000")
    _check_step(step, "inverse_sqrt")
    if peak is None:
        return 1.0 / math.sqrt(max(step, warmup))
    return peak * math.sqrt(warmup / max(step, warmup))


def linear_warmup_decay(step: int, peak: float, warmup: int, total: int) -> float:
    """peak * step / warmup while step < warmup, then linear decay to 0 at `total`, 0 after.

    Not in the paper (T5 fine-tunes at a constant rate, §3.1.2); the usual schedule for AdamW
    fine-tuning, with the same shape as transformers' `get_linear_schedule_with_warmup`.
    """
    if warmup < 0 or total < warmup:
        raise ValueError(f"linear_warmup_decay: need 0 <= warmup <= total, got warmup={warmup!r}"
                         f", total={total!r}")
    _check_step(step, "linear_warmup_decay")
    if step < warmup:
        return peak * step / max(1, warmup)
    return peak * max(0.0, (total - step) / max(1, total - warmup))


class InverseSqrt:
    """`inverse_sqrt` as a callable: InverseSqrt(10_000)(step) (paper §3.1.2, pre-training);
    InverseSqrt(warmup, peak=...) is the peak-rate form."""

    def __init__(self, warmup: int = 10_000, peak: float | None = None):
        if peak is not None and not peak > 0:
            raise ValueError(f"InverseSqrt: peak must be > 0 (or None for the paper's "
                             f"1/sqrt(warmup)), got {peak!r}")
        inverse_sqrt(0, warmup)   # validates warmup
        self.warmup = int(warmup)
        self.peak = None if peak is None else float(peak)

    def __call__(self, step: int) -> float:
        return inverse_sqrt(step, self.warmup, self.peak)

    def __repr__(self):
        if self.peak is None:
            return f"InverseSqrt(warmup={self.warmup})"
        return f"InverseSqrt(warmup={self.warmup}, peak={self.peak})"


class Constant:
    """The same rate at every step: T5 fine-tunes with Adafactor at 1e-3 (paper §3.1.2)."""

    def __init__(self, lr: float = 1e-3):
        if not lr >= 0:
            raise ValueError(f"Constant: lr must be >= 0, got {lr!r}")
        self.lr = float(lr)

    def __call__(self, step: int) -> float:
        _check_step(step, "Constant")
        return self.lr

    def __repr__(self):
        return f"Constant(lr={self.lr})"


def constant(lr: float = 1e-3) -> Constant:
    """The constant schedule step -> lr (paper §3.1.2: fine-tuning at 1e-3)."""
    return Constant(lr)


class LinearWarmupDecay:
    """`linear_warmup_decay` as a callable: LinearWarmupDecay(peak, warmup, total)(step)."""

    def __init__(self, peak: float, warmup: int, total: int):
        linear_warmup_decay(0, peak, warmup, total)   # validates the arguments
        self.peak, self.warmup, self.total = float(peak), int(warmup), int(total)

    def __call__(self, step: int) -> float:
        return linear_warmup_decay(step, self.peak, self.warmup, self.total)

    def __repr__(self):
        return f"LinearWarmupDecay(peak={self.peak}, warmup={self.warmup}, total={self.total})"
