"""Differentiable building blocks of T5, each a single `Function` with a hand-written backward.

Composing these from elementary ops would also be correct, but a fused forward/backward keeps
the graph small (fast on a CPU) and numerically careful (softmax and cross entropy subtract the
row maximum; RMS norm never forms a separate mean). On a GPU the same functions dispatch to the
CuPy kernels in `minit5/kernels/` when those are available; the maths here is the reference.
"""
from __future__ import annotations

import math

import numpy as np

from minit5 import kernels
from minit5.autograd.ops import unbroadcast
from minit5.autograd.tensor import Function, Tensor
from minit5.backend import get_array_module

# ---- activations -------------------------------------------------------------------------


class Softmax(Function):
    def forward(self, x, axis=-1):
        xp = get_array_module(x)
        self.axis = axis
        e = xp.exp(x - x.max(axis=axis, keepdims=True))
        self.out = e / e.sum(axis=axis, keepdims=True)
        return self.out

    def backward(self, g):
        y = self.out
        return y * (g - (g * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    def forward(self, x, axis=-1):
        xp = get_array_module(x)
        self.axis = axis
        shifted = x - x.max(axis=axis, keepdims=True)
        self.out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        return self.out

    def backward(self, g):
        xp = get_array_module(g)
        return g - xp.exp(self.out) * g.sum(axis=self.axis, keepdims=True)


_GELU_C = math.sqrt(2.0 / math.pi)


class GeluNew(Function):
    """gelu_new (the tanh approximation), T5 v1.1's activation:
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        self.t = xp.tanh(_GELU_C * (x + 0.044715 * x * x * x))
        return 0.5 * x * (1.0 + self.t)

    def backward(self, g):
        x, t = self.x, self.t
        dinner = _GELU_C * (1.0 + 3 * 0.044715 * x * x)
        return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner)


class GeluExact(Function):
    """gelu(x) = x * Phi(x), with the normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2."""

    def forward(self, x):
        self.x = x
        self.cdf = 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))
        return x * self.cdf

    def backward(self, g):
        xp = get_array_module(g)
        pdf = xp.exp(-0.5 * self.x * self.x) / math.sqrt(2.0 * math.pi)
        return g * (self.cdf + self.x * pdf)


def _erf(x):
    xp = get_array_module(x)
    if xp is np:  # NumPy has no erf ufunc; math.erf is exact to double precision
        return np.vectorize(math.erf, otypes=[x.dtype])(x)
    from cupyx.scipy.special import erf
    return erf(x)


class Sigmoid(Function):
    def forward(self, x):
        xp = get_array_module(x)
        self.out = 0.5 * (1.0 + xp.tanh(0.5 * x))   # stable for large |x|
        return self.out

    def backward(self, g):
        return g * self.out * (1.0 - self.out)


# ---- normalisation -----------------------------------------------------------------------


class RMSNorm(Function):
    """T5's LayerNorm: y = w * x / sqrt(mean(x^2) + eps) over the last axis. No mean, no bias.

    The mean of squares is accumulated in at least float32 (float16/bfloat16 inputs are upcast,
    float32 and float64 keep their precision).
    """

    def forward(self, x, weight, eps=1e-6):
        xp = get_array_module(x)
        acc = np.promote_types(x.dtype, np.float32)
        variance = (x.astype(acc, copy=False) ** 2).mean(axis=-1, keepdims=True)   # (..., 1)
        self.r = (1.0 / xp.sqrt(variance + eps)).astype(x.dtype, copy=False)        # (..., 1)
        self.xhat = x * self.r                                                       # (..., d)
        self.weight = weight
        return weight * self.xhat

    def backward(self, g):
        xhat, r = self.xhat, self.r
        gw = None
        if self.needs_input_grad[1]:
            gw = (g * xhat).reshape(-1, xhat.shape[-1]).sum(axis=0)                 # (d,)
        gx = None
        if self.needs_input_grad[0]:
            gxhat = g * self.weight
            gx = r * (gxhat - xhat * (gxhat * xhat).mean(axis=-1, keepdims=True))
        return gx, gw


# ---- linear maps and lookups -------------------------------------------------------------


class Linear(Function):
    """y = x @ W^T for W stored PyTorch-style as [out, in] (T5's projections have no bias).

    Leading axes are flattened so each direction is one matrix product (one BLAS call).
    """

    def forward(self, x, weight):
        if x.shape[-1] != weight.shape[1]:
            raise ValueError(f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the "
                             f"weight of shape {weight.shape} expects {weight.shape[1]}")
        self.x, self.weight = x, weight
        x2 = x.reshape(-1, x.shape[-1])                          # (N, in)
        return (x2 @ weight.T).reshape(*x.shape[:-1], weight.shape[0])  # (..., out)

    def backward(self, g):
        g2 = g.reshape(-1, g.shape[-1])                          # (N, out)
        gx = (g2 @ self.weight).reshape(self.x.shape) if self.needs_input_grad[0] else None
        gw = None
        if self.needs_input_grad[1]:
            gw = g2.T @ self.x.reshape(-1, self.x.shape[-1])     # (out, in)
        return gx, gw


class Embedding(Function):
    """Rows of `weight` picked by integer ids; backward adds each row's gradient back (ids may
    repeat, so the scatter must add, not assign)."""

    def forward(self, weight, ids):
        self.ids, self.shape = ids, weight.shape
        return weight[ids]                                       # (*ids.shape, d)

    def backward(self, g):
        xp = get_array_module(g)
        grad = xp.zeros(self.shape, dtype=g.dtype)
        flat_ids = self.ids.reshape(-1)
        flat_g = g.reshape(-1, self.shape[1])
        if xp is np:
            np.add.at(grad, flat_ids, flat_g)
        else:
            import cupyx
            cupyx.scatter_add(grad, flat_ids, flat_g)
        return grad


# ---- regularisation and loss -------------------------------------------------------------


class Dropout(Function):
    def forward(self, x, p, rng):
        xp = get_array_module(x)
        if xp is np:
            keep = rng.random(x.shape) >= p
        else:  # draw the mask on the device, seeded from the caller's Generator
            keep = xp.random.default_rng(int(rng.integers(2 ** 63))).random(x.shape) >= p
        self.scale = (keep / (1.0 - p)).astype(x.dtype)
        return x * self.scale

    def backward(self, g):
        return g * self.scale


class CrossEntropy(Function):
    """Mean over counted positions of -log softmax(logits)[label]; label == ignore_index is
    skipped. Like PyTorch, a batch with no counted position gives nan.

    Only the log-sum-exp per row is kept for backward, not a second copy of the probabilities.
    """

    def forward(self, logits, labels, ignore_index=-100):
        xp = get_array_module(logits)
        v = logits.shape[-1]
        z = logits.reshape(-1, v)                                # (N, V)
        y = labels.reshape(-1)                                   # (N,)
        self.counted = y != ignore_index
        self.safe = xp.where(self.counted, y, 0)
        m = z.max(axis=1, keepdims=True)
        self.lse = m + xp.log(xp.exp(z - m).sum(axis=1, keepdims=True))   # (N, 1)
        picked = z[xp.arange(z.shape[0]), self.safe]                      # (N,)
        self.count = int(self.counted.sum())
        self.z, self.shape = z, logits.shape
        nll = (self.lse[:, 0] - picked) * self.counted
        return xp.asarray(nll.sum() / self.count if self.count else xp.nan, dtype=logits.dtype)

    def backward(self, g):
        xp = get_array_module(g)
        if self.count == 0:
            return xp.zeros(self.shape, dtype=self.z.dtype), None
        grad = xp.exp(self.z - self.lse)                         # softmax, (N, V)
        grad[xp.arange(grad.shape[0]), self.safe] -= 1.0
        grad *= (self.counted[:, None] * (g / self.count)).astype(grad.dtype)
        return grad.reshape(self.shape), None


# ---- fused GPU kernels (minit5/kernels) --------------------------------------------------
# Used for CuPy arrays only (`kernels.use_kernels`), by attention_softmax, rms_norm,
# cross_entropy and gated_gelu below. Each kernel equals the composed maths above, which stays
# the NumPy path, untouched.


class AttentionSoftmax(Function):
    """softmax(scores + position_bias) over the last axis in one kernel. The bias broadcasts to
    the scores; its gradient is summed back over the broadcast axes."""

    def forward(self, scores, position_bias):
        self.shapes = (scores.shape, position_bias.shape)
        self.out = kernels.attention_softmax.forward(scores, position_bias)
        return self.out

    def backward(self, g):
        dx = kernels.attention_softmax.backward(self.out, g)
        return (unbroadcast(dx, self.shapes[0]) if self.needs_input_grad[0] else None,
                unbroadcast(dx, self.shapes[1]) if self.needs_input_grad[1] else None)


class FusedRMSNorm(Function):
    """RMSNorm by the kernels: keeps x and 1/rms per row instead of xhat."""

    def forward(self, x, weight, eps=1e-6):
        self.x, self.weight = x, weight
        y, self.rstd = kernels.rms_norm.forward(x, weight, eps)
        return y

    def backward(self, g):
        gx, gw = kernels.rms_norm.backward(g, self.x, self.weight, self.rstd)
        return (gx if self.needs_input_grad[0] else None,
                gw if self.needs_input_grad[1] else None)


class FusedCrossEntropy(Function):
    """CrossEntropy by the kernels: a loss and a log-sum-exp per row forward, one pass back."""

    def forward(self, logits, labels, ignore_index=-100):
        xp = get_array_module(logits)
        self.shape, self.ignore_index = logits.shape, ignore_index
        self.z = logits.reshape(-1, logits.shape[-1])                           # (N, V)
        self.y = labels.reshape(-1)                                             # (N,)
        loss, self.lse = kernels.cross_entropy.forward(self.z, self.y, ignore_index)
        self.count = int((self.y != ignore_index).sum())
        return xp.asarray(loss.sum() / self.count if self.count else xp.nan, dtype=logits.dtype)

    def backward(self, g):
        xp = get_array_module(g)
        if self.count == 0:
            return xp.zeros(self.shape, dtype=self.z.dtype), None
        grad = kernels.cross_entropy.backward(self.z, self.y, self.lse, g / self.count,
                                              self.ignore_index)
        return grad.reshape(self.shape), None


class GatedGelu(Function):
    """gelu_new(a) * b in one kernel; backward gives da and db in one pass from a and b."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return kernels.gated_gelu.forward(a, b)

    def backward(self, g):
        da, db = kernels.gated_gelu.backward(g, self.a, self.b)
        return (unbroadcast(da, self.a.shape) if self.needs_input_grad[0] else None,
                unbroadcast(db, self.b.shape) if self.needs_input_grad[1] else None)


# ---- the functional API ------------------------------------------------------------------


def softmax(x, axis=-1):
    return Softmax.apply(x, axis=axis)


def attention_softmax(scores, position_bias):
    """T5's attention weights: softmax(scores + position_bias) over the keys (last) axis.

    scores (B, H, Lq, Lk); position_bias (1|B, H, Lq, Lk), the relative bias with the additive
    mask folded in. One fused kernel on a GPU, softmax(scores + position_bias) otherwise.
    """
    if kernels.use_kernels(scores):
        return AttentionSoftmax.apply(scores, position_bias)
    return softmax(scores + position_bias, axis=-1)


def log_softmax(x, axis=-1):
    return LogSoftmax.apply(x, axis=axis)


def relu(x):
    from minit5.autograd import ops
    return ops.relu(x)


def gelu_new(x):
    return GeluNew.apply(x)


def gated_gelu(a, b):
    """gelu_new(a) * b: T5 v1.1's gated FFN hidden layer (a = wi_0 x, b = wi_1 x). One fused
    kernel on a GPU for same-shaped inputs, composed otherwise."""
    if kernels.use_kernels(a) and tuple(a.shape) == tuple(b.shape):
        return GatedGelu.apply(a, b)
    return gelu_new(a) * b


def gelu(x):
    """The exact (erf) GELU, HF's "gelu"."""
    return GeluExact.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def silu(x):
    return x * sigmoid(x)


# feed_forward_proj activation names, as HF's ACT2FN spells them.
ACTIVATIONS = {"relu": relu, "gelu_new": gelu_new, "gelu": gelu, "silu": silu, "swish": silu}


def rms_norm(x, weight, eps=1e-6):
    if kernels.use_kernels(x):
        return FusedRMSNorm.apply(x, weight, eps=eps)
    return RMSNorm.apply(x, weight, eps=eps)


def linear(x, weight):
    return Linear.apply(x, weight)


def embedding(weight, ids):
    """weight[ids] for an integer array `ids` (checked to lie in range)."""
    ids = ids.data if isinstance(ids, Tensor) else ids
    xp = get_array_module(ids)
    ids = xp.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding ids must be integers, got dtype {ids.dtype}")
    n = weight.shape[0]
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= n):
        raise IndexError(f"embedding ids must lie in [0, {n}), got values from {int(ids.min())} "
                         f"to {int(ids.max())}")
    return Embedding.apply(weight, ids=ids)


def dropout(x, p, rng=None, training=True):
    """Zero each element with probability p and scale the rest by 1/(1-p); identity when not
    training or p == 0. `rng` is an explicit numpy Generator."""
    if not training or p == 0.0:
        return x
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if rng is None:
        raise ValueError("dropout in training mode needs an explicit numpy Generator (rng=...)")
    return Dropout.apply(x, p=p, rng=rng)


def cross_entropy(logits, labels, ignore_index=-100):
    """Mean cross entropy of logits (..., V) against integer labels (...)."""
    labels = labels.data if isinstance(labels, Tensor) else labels
    xp = get_array_module(labels)
    labels = xp.asarray(labels)
    if labels.shape != tuple(logits.shape[:-1]):
        raise ValueError(f"cross_entropy: labels of shape {labels.shape} do not match logits of "
                         f"shape {tuple(logits.shape)} (labels must be logits.shape[:-1])")
    loss = FusedCrossEntropy if kernels.use_kernels(logits) else CrossEntropy
    return loss.apply(logits, labels, ignore_index=ignore_index)
