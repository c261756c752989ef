"""Learning-rate schedules: small callables mapping a step number to a learning rate.

    schedule = InverseSqrt(warmup=10_000)
    for step in range(num_steps):
        opt.lr = schedule(step)       # an optimizer with an external lr (Adafactor:
        ...                           # relative_step=False, AdamW)

Each schedule exists as a class (`InverseSqrt`, `Constant`, `LinearWarmupDecay`) and as a plain
function of the step (`inverse_sqrt`, `linear_warmup_decay`); `constant(lr)` returns the
`Constant` schedule. Steps count from 0, the trainer's global step.
"""
from __future__ import annotations

import math


def _check_step(step, name):
    if step < 0:
        raise ValueError(f"{name}: step must be >= 0, got {step!r}")


def inverse_sqrt(step: int, warmup: int = 10_000) -> float:
    """1 / sqrt(max(step, warmup)): T5's pre-training schedule (paper §3.1.2).

    A constant 1/sqrt(warmup) (0.01 for the paper's 10^4 warm-up steps) for the first `warmup`
    steps, then an inverse-square-root decay. Used with Adafactor and
    `scale_parameter=True` in T5; it is the relative step size min(1e-2, 1/sqrt(t)) of the
    Adafactor paper with the 1e-2 cap reached at t = 10^4.
    """
    if warmup < 1:
        raise ValueError(f"inverse_sqrt: warmup must be >= 1 (1/sqrt(0) is undefined), got "
                         f"{warmup!r}; T5 uses 10_000")
    _check_step(step, "inverse_sqrt")
    return 1.0 / math.sqrt(max(step, warmup))


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
    """`inverse_sqrt` as a callable: InverseSqrt(10_000)(step) (paper §3.1.2, pre-training)."""

    def __init__(self, warmup: int = 10_000):
        inverse_sqrt(0, warmup)   # validates warmup
        self.warmup = int(warmup)

    def __call__(self, step: int) -> float:
        return inverse_sqrt(step, self.warmup)

    def __repr__(self):
        return f"InverseSqrt(warmup={self.warmup})"


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
