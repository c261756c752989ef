"""Optimizers, learning-rate schedules and gradient clipping.

    from minit5.optim import Adafactor, AdamW, InverseSqrt, clip_grad_norm
    opt = Adafactor(model.parameters())          # T5: relative step, parameter scale, 128 rule
    loss.backward(); opt.step(); opt.zero_grad()
"""
from minit5.optim.adafactor import Adafactor, factored_axes
from minit5.optim.adamw import AdamW
from minit5.optim.clipping import clip_grad_norm
from minit5.optim.optimizer import Optimizer
from minit5.optim.schedules import (
    Constant,
    InverseSqrt,
    LinearWarmupDecay,
    constant,
    inverse_sqrt,
    linear_warmup_decay,
)

__all__ = ["Adafactor", "AdamW", "Optimizer", "factored_axes", "clip_grad_norm",
           "InverseSqrt", "Constant", "LinearWarmupDecay", "inverse_sqrt", "constant",
           "linear_warmup_decay"]
