"""Gradient clipping by global norm (as `torch.nn.utils.clip_grad_norm_`).

All gradients are treated as one long vector g. If ||g||_2 > max_norm, every gradient is
multiplied by max_norm / (||g||_2 + 1e-6), so the direction is kept and the length becomes
(just under) max_norm. T5 does not clip gradients (Adafactor clips its *update* instead, see
`clip_threshold`); AdamW fine-tuning usually does, with max_norm = 1.0.
"""
from __future__ import annotations

import math

import numpy as np

from minit5.backend import get_array_module


def clip_grad_norm(params, max_norm: float):
    """Scale the gradients of `params` in place so their global L2 norm is at most `max_norm`.

    Parameters whose `.grad` is None are skipped. Returns the total norm *before* clipping: a
    Python float on a CPU, and on a GPU a 0-d device array (float64), so that a step does not
    wait for the GPU to decide whether to clip: the scale is computed and applied on the device
    (read the norm with float() when it is logged). When the norm is inf or nan (a gradient
    overflowed) the gradients are left as they are, unlike PyTorch, which multiplies them by 0
    or nan: test the returned value and skip the step instead.
    """
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm: max_norm must be > 0, got {max_norm!r}")
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    xp = get_array_module(grads[0])
    squares = 0.0                                       # stays on the device until the end
    for g in grads:
        norm = xp.linalg.norm(g.ravel()).astype("float64")   # ||g_i||_2, one per tensor
        squares = squares + norm * norm
    if xp is not np:                                    # a GPU: decide on the device
        total = xp.sqrt(squares)                                            # 0-d, float64
        clip = xp.isfinite(total) & (total > max_norm)
        scale = xp.where(clip, max_norm / (total + 1e-6), 1.0)              # 1: unchanged
        for g in grads:
            g *= scale.astype(g.dtype)
        return total
    total_norm = float(xp.sqrt(squares))
    if math.isfinite(total_norm) and total_norm > max_norm:
        scale = max_norm / (total_norm + 1e-6)
        for g in grads:
            g *= scale
    return total_norm
