"""AdamW: Adam (Kingma & Ba 2015) with decoupled weight decay (Loshchilov & Hutter 2019).

The baseline Adafactor is measured against: two full-size running means per weight. With
PyTorch's `torch.optim.AdamW` semantics, one step t = 1, 2, ... is

    X      <- X (1 - lr * weight_decay)                    decay first, and not through the grad
    M_t     = beta1 M_{t-1} + (1 - beta1) G_t
    V_t     = beta2 V_{t-1} + (1 - beta2) G_t^2
    X_t     = X - lr / (1 - beta1^t) * M_t / (sqrt(V_t) / sqrt(1 - beta2^t) + eps)

(the bias corrections 1 - beta^t undo the zero start of M and V). Note that eps is added after
the bias correction of sqrt(V), as PyTorch does.
"""
from __future__ import annotations

import math

from minit5.backend import get_array_module
from minit5.optim.optimizer import Optimizer


class AdamW(Optimizer):
    """AdamW over one list of parameters; `lr` may be changed between steps by a schedule.

    State per parameter (in the gradient's dtype): `step` (int), `exp_avg` M and `exp_avg_sq` V,
    both the parameter's shape: 2 numbers per weight.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if len(tuple(betas)) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"AdamW: betas must be a pair (beta1, beta2), each in [0, 1), got "
                             f"{betas!r}; the default is (0.9, 0.999)")
        if not eps >= 0:
            raise ValueError(f"AdamW: eps must be >= 0, got {eps!r}")
        if not weight_decay >= 0:
            raise ValueError(f"AdamW: weight_decay must be >= 0, got {weight_decay!r}")
        super().__init__(params)
        self.lr = lr
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)

    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        if value is None or not (float(value) >= 0 and math.isfinite(float(value))):
            raise ValueError(f"AdamW: lr must be a finite number >= 0, got {value!r}")
        self._lr = float(value)

    def _state_shapes(self, p) -> dict:
        shape = tuple(p.data.shape)
        return {"exp_avg": shape, "exp_avg_sq": shape}

    def _update(self, p, state):
        xp = get_array_module(p.data)
        if not state:
            state["step"] = 0
            for name, shape in self._state_shapes(p).items():
                state[name] = xp.zeros(shape, dtype=self._state_dtype(p))
        grad = p.grad.astype(self._state_dtype(p), copy=False)
        beta1, beta2 = self.betas
        state["step"] += 1
        t = state["step"]

        if self.weight_decay != 0.0:
            p.data *= 1.0 - self._lr * self.weight_decay
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1.0 - beta1) * (grad - m)            # = beta1 m + (1 - beta1) g, PyTorch's lerp
        v *= beta2
        v += (1.0 - beta2) * (grad * grad)

        step_size = self._lr / (1.0 - beta1 ** t)
        denom = xp.sqrt(v) / math.sqrt(1.0 - beta2 ** t) + self.eps
        p.data -= step_size * (m / denom)

    def __repr__(self):
        return (f"AdamW(lr={self._lr}, betas={self.betas}, eps={self.eps}, "
                f"weight_decay={self.weight_decay}, params={len(self.params)})")
