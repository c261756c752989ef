"""Adafactor (Shazeer & Stern 2018, arXiv 1804.04235), the optimizer T5 was trained with.

Adam keeps two numbers per weight: a running mean of the gradient and of its square. Adafactor
drops the first (no momentum by default) and, for a matrix, keeps the second only as a running
mean per row and per column, from which it rebuilds a rank-one estimate of the full matrix. An
n x m weight then costs n + m numbers of optimizer state instead of 2nm.

Algorithm 4 of the paper (a weight matrix X, n x m), one step t = 1, 2, ...:

    rho_t    = min(1e-2, 1 / sqrt(t))                         relative step size
    alpha_t  = max(eps2, RMS(X_{t-1})) * rho_t                step size, relative to the weights
    beta2_t  = 1 - t^(-0.8)                                   decay that grows towards 1
    G_t      = grad f(X_{t-1})
    R_t      = beta2_t R_{t-1} + (1 - beta2_t) rowmean(G_t^2 + eps1)     (n,)
    C_t      = beta2_t C_{t-1} + (1 - beta2_t) colmean(G_t^2 + eps1)     (m,)
    V_t      = R_t C_t^T / mean(R_t)                          (n, m), rank one
    U_t      = G_t / sqrt(V_t)
    U_t     <- U_t / max(1, RMS(U_t) / d)                     update clipping, d = 1
    X_t      = X_{t-1} - alpha_t U_t

The paper writes row and column *sums* and divides by the sum of R; with means the scale factors
cancel the same way, and means are what transformers and mesh TF compute. Algorithm 5 (a vector,
or any tensor that is not factored) keeps the full V_t = beta2_t V_{t-1} + (1 - beta2_t)(G_t^2 +
eps1) instead of R and C.

Options (names and meaning as in `transformers.optimization.Adafactor`, and its numerics):
    lr              the external step size when relative_step=False (then rho_t = lr).
    eps             (eps1, eps2): eps1 is added to G^2, eps2 floors the parameter scale.
    clip_threshold  d above.
    decay_rate      beta2_t = 1 - t^decay_rate (-0.8 in the paper).
    beta1           None: no momentum (T5). A number: keep M = beta1 M + (1 - beta1) alpha_t U_t
                    (the lr-scaled, clipped update) and subtract M instead.
    weight_decay    X <- X - weight_decay * alpha_t * X, applied before the update is subtracted.
    scale_parameter multiply the step size by max(eps2, RMS(X)) (False: that factor is 1).
    relative_step   use rho_t = min(1e-2, 1/sqrt(t)) instead of `lr`.
    warmup_init     rho_t = min(1e-6 * t, 1/sqrt(t)): a linear warm-up (needs relative_step).
The step t is counted per parameter from 1, so a parameter that had no gradient for a while
continues where it left off.

Which tensors are factored (the one place minit5 departs from transformers' default):
    T5 / mesh TF factor a tensor over its two largest dimensions, and only when the second
    largest has at least `min_dim_size_to_factor` = 128 entries; smaller tensors (the relative
    attention bias, 32 x heads) keep the full V. transformers factors every tensor with two or
    more dimensions over its last two axes. `min_dim_size_to_factor=0` selects transformers' rule
    exactly. See `factored_axes`.
"""
from __future__ import annotations

import math

from minit5.backend import get_array_module
from minit5.kernels import adafactor_update as fused
from minit5.optim.optimizer import Optimizer


def factored_axes(shape, min_dim_size_to_factor: int = 128):
    """The two axes (a, b), a < b, whose second moment is factored, or None for a full one.

    - fewer than two dimensions: None (Algorithm 5).
    - `min_dim_size_to_factor=0`: transformers' rule, the last two axes (ndim-2, ndim-1).
    - otherwise T5/mesh TF's rule: the two largest dimensions, if the smaller of the two is at
      least `min_dim_size_to_factor`; ties go to the later axis, so whenever the last two axes
      are (among) the largest the choice is exactly transformers' pair.

    How "two largest dims" generalises the last-two-axes math: move axes a and b to the end
    (keeping their order) and apply transformers' formulas there. Equivalently, in place: the
    row state R is the mean of G^2 + eps1 over axis b (shape: `shape` without b), the column
    state C the mean over axis a (shape: `shape` without a), every other axis is a batch axis,
    and V = R C / mean_a(R), broadcast back. For a 2-D tensor, the only kind a T5 model has, both
    rules pick the same pair (0, 1); they can differ only for ndim >= 3 (e.g. (200, 3, 300):
    mesh factors axes (0, 2), transformers axes (1, 2)).
    """
    shape = tuple(int(s) for s in shape)
    ndim = len(shape)
    if ndim < 2:
        return None
    if min_dim_size_to_factor <= 0:
        return ndim - 2, ndim - 1
    by_size = sorted(range(ndim), key=lambda axis: (shape[axis], axis))  # smallest first
    second, largest = by_size[-2], by_size[-1]
    if shape[second] < min_dim_size_to_factor:
        return None
    return min(second, largest), max(second, largest)


def _rms(x, xp):
    """Root mean square, as a 0-d array on x's device (no host round trip)."""
    return xp.sqrt(xp.mean(x * x))


class Adafactor(Optimizer):
    """Adafactor with transformers' options and T5's factoring rule (see the module docstring).

    >>> opt = Adafactor(model.parameters())                      # T5 pre-training defaults
    >>> opt = Adafactor(model.parameters(), lr=1e-3, relative_step=False, scale_parameter=False)
    >>> loss.backward(); opt.step(); opt.zero_grad()

    State per parameter (arrays in the gradient's dtype, float32 or float64):
        step            int, steps taken by this parameter
        exp_avg_sq_row  R, `shape` without axis b   } when factored: O(n + m) for an (n, m) weight
        exp_avg_sq_col  C, `shape` without axis a   }
        exp_avg_sq      V, `shape`                    when not factored
        exp_avg         M, `shape`                    only with beta1
    """

    def __init__(self, params, lr=None, eps=(1e-30, 1e-3), clip_threshold=1.0, decay_rate=-0.8,
                 beta1=None, weight_decay=0.0, scale_parameter=True, relative_step=True,
                 warmup_init=False, min_dim_size_to_factor=128):
        if lr is not None and relative_step:
            raise ValueError("Adafactor: cannot combine a manual `lr` with relative_step=True "
                             "(the step size would be ignored); pass relative_step=False to use "
                             "lr, or lr=None for the relative step size")
        if warmup_init and not relative_step:
            raise ValueError("Adafactor: warmup_init=True requires relative_step=True (it "
                             "changes the relative step size); drop warmup_init or set "
                             "relative_step=True and lr=None")
        if lr is None and not relative_step:
            raise ValueError("Adafactor: relative_step=False needs an external step size: pass "
                             "lr (e.g. lr=1e-3, T5's fine-tuning rate)")
        if len(tuple(eps)) != 2 or min(eps) < 0:
            raise ValueError(f"Adafactor: eps must be a pair (eps1, eps2) of non-negative "
                             f"numbers, got {eps!r}; the default is (1e-30, 1e-3)")
        if not clip_threshold > 0:
            raise ValueError(f"Adafactor: clip_threshold must be > 0, got {clip_threshold!r} "
                             "(1.0 in the paper and in T5)")
        if not decay_rate <= 0:
            raise ValueError(f"Adafactor: decay_rate must be <= 0 so that beta2_t = 1 - "
                             f"t^decay_rate lies in [0, 1), got {decay_rate!r} (the paper uses "
                             "-0.8)")
        if beta1 is not None and not 0.0 <= beta1 < 1.0:
            raise ValueError(f"Adafactor: beta1 must be None (no momentum) or in [0, 1), got "
                             f"{beta1!r}")
        if not weight_decay >= 0:
            raise ValueError(f"Adafactor: weight_decay must be >= 0, got {weight_decay!r}")
        if int(min_dim_size_to_factor) != min_dim_size_to_factor or min_dim_size_to_factor < 0:
            raise ValueError(f"Adafactor: min_dim_size_to_factor must be an int >= 0, got "
                             f"{min_dim_size_to_factor!r} (128: T5's rule; 0: transformers')")
        super().__init__(params)
        self.relative_step = bool(relative_step)
        self.lr = lr                      # validated by the property below
        self.eps = (float(eps[0]), float(eps[1]))
        self.clip_threshold = float(clip_threshold)
        self.decay_rate = float(decay_rate)
        self.beta1 = None if beta1 is None else float(beta1)
        self.weight_decay = float(weight_decay)
        self.scale_parameter = bool(scale_parameter)
        self.warmup_init = bool(warmup_init)
        self.min_dim_size_to_factor = int(min_dim_size_to_factor)

    # ---- the external learning rate (a schedule may set it between steps) ---------------
    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        if self.relative_step:
            if value is not None:
                raise ValueError("Adafactor: lr cannot be set while relative_step=True (the "
                                 "relative step size replaces it); build the optimizer with "
                                 "relative_step=False to follow a schedule")
        elif value is None or not (float(value) >= 0 and math.isfinite(float(value))):
            raise ValueError(f"Adafactor: lr must be a finite number >= 0 when "
                             f"relative_step=False, got {value!r}")
        self._lr = None if value is None else float(value)

    # ---- pieces of one step --------------------------------------------------------------
    def _relative_step_size(self, t: int) -> float:
        """rho_t: min(1e-2, 1/sqrt(t)), or min(1e-6 t, 1/sqrt(t)) with warmup_init; else lr."""
        if not self.relative_step:
            return self._lr
        floor = 1e-6 * t if self.warmup_init else 1e-2
        return min(floor, 1.0 / math.sqrt(t))

    def _state_shapes(self, p) -> dict:
        shape = tuple(p.data.shape)
        shapes = {}
        if self.beta1 is not None:
            shapes["exp_avg"] = shape
        axes = factored_axes(shape, self.min_dim_size_to_factor)
        if axes is None:
            shapes["exp_avg_sq"] = shape
        else:
            a, b = axes
            shapes["exp_avg_sq_row"] = shape[:b] + shape[b + 1:]   # mean over b: one per row
            shapes["exp_avg_sq_col"] = shape[:a] + shape[a + 1:]   # mean over a: one per column
        return shapes

    def _init_state(self, p, state):
        xp = get_array_module(p.data)
        dtype = self._state_dtype(p)
        state["step"] = 0
        for name, shape in self._state_shapes(p).items():
            state[name] = xp.zeros(shape, dtype=dtype)

    def _update(self, p, state):
        xp = get_array_module(p.data)
        if not state:
            self._init_state(p, state)
        grad = p.grad.astype(self._state_dtype(p), copy=False)
        eps1, eps2 = self.eps

        state["step"] += 1
        t = state["step"]
        lr = self._relative_step_size(t)                         # rho_t
        if self.scale_parameter:
            lr = xp.maximum(eps2, _rms(p.data, xp)) * lr         # alpha_t, a 0-d array
        beta2t = 1.0 - math.pow(t, self.decay_rate)

        axes = factored_axes(p.data.shape, self.min_dim_size_to_factor)
        if axes is not None and self.beta1 is None:
            # The whole step (kernels/adafactor_update: three CUDA kernels for a 2-D weight
            # on a GPU, the same maths in NumPy otherwise)
            fused.update(p.data, grad, state["exp_avg_sq_row"], state["exp_avg_sq_col"], lr,
                         beta2t, eps1, self.clip_threshold, self.weight_decay, axes)
            return
        if axes is not None:
            update = fused.factored_update(grad, state["exp_avg_sq_row"],
                                           state["exp_avg_sq_col"], beta2t, eps1, axes)
        else:
            v = state["exp_avg_sq"]
            v *= beta2t
            v += (1.0 - beta2t) * (grad * grad + eps1)           # V: Algorithm 5
            update = (1.0 / xp.sqrt(v)) * grad
        update = fused.clip_and_scale(update, lr, self.clip_threshold)

        if self.beta1 is not None:
            m = state["exp_avg"]
            m *= self.beta1
            m += (1.0 - self.beta1) * update
            update = m
        fused.apply_update(p.data, update, lr, self.weight_decay)

    def __repr__(self):
        lr = "relative" if self.relative_step else self._lr
        return (f"Adafactor(lr={lr}, eps={self.eps}, clip_threshold={self.clip_threshold}, "
                f"decay_rate={self.decay_rate}, beta1={self.beta1}, "
                f"weight_decay={self.weight_decay}, scale_parameter={self.scale_parameter}, "
                f"warmup_init={self.warmup_init}, "
                f"min_dim_size_to_factor={self.min_dim_size_to_factor}, "
                f"params={len(self.params)})")
