"""Differentiable building blocks of T5, each a single `Function` with a hand-written backward.

Composing these from elementary ops would also be correct, but a fused forward/backward keeps
the graph small (fast on a CPU) and numerically careful (softmax and cross entropy subtract the
row maximum; RMS norm never forms a separate mean).

The fused ops (attention softmax, RMS norm, cross entropy, gated GELU) are thin Functions over
`minit5/kernels/<op>.py`, which holds the maths twice, side by side: NumPy code and a CUDA
kernel, picked by the array type. A Function saves the same arrays and runs the same backward
on both devices, so a gradient check on the CPU tests the code the GPU runs, all but the kernel
body (the kernels are checked against the NumPy code in tests/kernels).

Arrays that backward needs go through `save_for_backward`; options and shapes are attributes.
"""
from __future__ import annotations

import math

import numpy as np

from minit5 import kernels
from minit5.autograd import ops
from minit5.autograd.ops import unbroadcast
from minit5.autograd.row_gradient import RowGradient
from minit5.autograd.tensor import Function, Tensor
from minit5.backend import get_array_module
from minit5.labels import IGNORE_INDEX

# ---- activations -------------------------------------------------------------------------


class Softmax(Function):
    def forward(self, x, axis=-1):
        self.axis = axis
        y = kernels.attention_softmax.softmax(x, axis=axis)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        return kernels.attention_softmax.softmax_backward(y, g, axis=self.axis)


class LogSoftmax(Function):
    def forward(self, x, axis=-1):
        self.axis = axis
        out = x - kernels.cross_entropy.normaliser(x, axis=axis)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved
        xp = get_array_module(g)
        return g - xp.exp(out) * g.sum(axis=self.axis, keepdims=True)


class GeluNew(Function):
    """gelu_new (the tanh approximation), T5 v1.1's activation:
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); maths in kernels/gated_gelu.py."""

    def forward(self, x):
        y, t = kernels.gated_gelu.gelu_new(x)
        self.save_for_backward(x, t)
        return y

    def backward(self, g):
        x, t = self.saved
        return g * kernels.gated_gelu.gelu_new_derivative(x, t)


class GeluExact(Function):
    """gelu(x) = x * Phi(x), with the normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2."""

    def forward(self, x):
        cdf = 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))
        self.save_for_backward(x, cdf)
        return x * cdf

    def backward(self, g):
        x, cdf = self.saved
        xp = get_array_module(g)
        pdf = xp.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        return g * (cdf + x * pdf)


def _erf(x):
    xp = get_array_module(x)
    if xp is np:  # NumPy has no erf ufunc; math.erf is exact to double precision
        return np.vectorize(math.erf, otypes=[x.dtype])(x)
    from cupyx.scipy.special import erf
    return erf(x)


class Sigmoid(Function):
    def forward(self, x):
        xp = get_array_module(x)
        y = 0.5 * (1.0 + xp.tanh(0.5 * x))   # stable for large |x|
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        return g * y * (1.0 - y)


# ---- the fused ops (kernels/<op>.py: NumPy and CUDA side by side) ---------------------------


class AttentionSoftmax(Function):
    """softmax(scores + position_bias) over the last axis, without materialising the sum on a
    GPU. The bias broadcasts to the scores; its gradient is summed back over the broadcast
    axes."""

    def forward(self, scores, position_bias):
        self.shapes = (scores.shape, position_bias.shape)
        y = kernels.attention_softmax.forward(scores, position_bias)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        dx = kernels.attention_softmax.backward(y, g)
        return (unbroadcast(dx, self.shapes[0]) if self.needs_input_grad[0] else None,
                unbroadcast(dx, self.shapes[1]) if self.needs_input_grad[1] else None)


class RMSNorm(Function):
    """T5's LayerNorm: y = w * x / sqrt(mean(x^2) + eps) over the last axis. No mean, no bias.

    The mean of squares is accumulated in at least float32. Saves x and one 1/rms per row
    (`rstd`), not the normalised x.
    """

    def forward(self, x, weight, eps=1e-6):
        y, rstd = kernels.rms_norm.forward(x, weight, eps)
        self.save_for_backward(x, weight, rstd)
        return y

    def backward(self, g):
        x, weight, rstd = self.saved
        gx, gw = kernels.rms_norm.backward(g, x, weight, rstd)
        return (gx if self.needs_input_grad[0] else None,
                gw if self.needs_input_grad[1] else None)


class CrossEntropy(Function):
    """Mean over counted positions of -log softmax(logits)[label]; label == ignore_index is
    skipped. Like PyTorch, a batch with no counted position gives nan.

    Keeps one log-sum-exp per row for backward, not the probabilities, and the count of
    counted positions as a device array (reading it would wait for the GPU).
    """

    def forward(self, logits, labels, ignore_index=IGNORE_INDEX):
        xp = get_array_module(logits)
        self.shape, self.ignore_index = logits.shape, ignore_index
        z = logits.reshape(-1, logits.shape[-1])                                 # (N, V)
        y = labels.reshape(-1)                                                   # (N,)
        loss, lse = kernels.cross_entropy.forward(z, y, ignore_index)            # (N,), (N,)
        count = (y != ignore_index).sum(dtype=z.dtype)                           # 0-d
        self.save_for_backward(z, y, lse, count)
        mean = loss.sum() / xp.maximum(count, 1)
        return xp.where(count > 0, mean, xp.full((), xp.nan, dtype=z.dtype)).astype(z.dtype)

    def backward(self, g):
        z, y, lse, count = self.saved
        xp = get_array_module(g)
        scale = g / xp.maximum(count, 1)                   # 0-d; every row is ignored if 0
        grad = kernels.cross_entropy.backward(z, y, lse, scale, self.ignore_index)
        return grad.reshape(self.shape), None


class GatedGelu(Function):
    """gelu_new(a) * b, T5 v1.1's gated FFN hidden layer; backward gives da and db in one pass
    from a and b (t is recomputed, not stored)."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return kernels.gated_gelu.forward(a, b)

    def backward(self, g):
        a, b = self.saved
        da, db = kernels.gated_gelu.backward(g, a, b)
        return (unbroadcast(da, a.shape) if self.needs_input_grad[0] else None,
                unbroadcast(db, b.shape) if self.needs_input_grad[1] else None)


# ---- linear maps, lookups, dropout -------------------------------------------------------


class Linear(Function):
    """y = x @ W^T for W stored PyTorch-style as [out, in] (T5's projections have no bias).

    Leading axes are flattened so each direction is one matrix product (one BLAS call). With
    a handful of rows (decoding one token at a time: N <= FEW_ROWS) the product runs as
    (W @ x^T)^T on NumPy: for x @ W^T OpenBLAS first copies W into its packed layout, which a
    few rows cannot amortise, and the transposed form takes 1.1-2x less time for T5's
    projections (benchmarks/RESULTS.md). Same maths; the last bit can differ.
    """

    FEW_ROWS = 16

    def forward(self, x, weight):
        if x.shape[-1] != weight.shape[1]:
            raise ValueError(f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the "
                             f"weight of shape {weight.shape} expects {weight.shape[1]}")
        self.save_for_backward(x, weight)
        x2 = x.reshape(-1, x.shape[-1])                          # (N, in)
        if x2.shape[0] <= self.FEW_ROWS and kernels._cpu.plain(x2, weight):
            y = np.ascontiguousarray((weight @ x2.T).T)          # (N, out)
        else:
            y = x2 @ weight.T                                    # (N, out)
        return y.reshape(*x.shape[:-1], weight.shape[0])         # (..., out)

    def backward(self, g):
        x, weight = self.saved
        g2 = g.reshape(-1, g.shape[-1])                          # (N, out)
        gx = (g2 @ weight).reshape(x.shape) if self.needs_input_grad[0] else None
        gw = None
        if self.needs_input_grad[1]:
            gw = g2.T @ x.reshape(-1, x.shape[-1])               # (out, in)
        return gx, gw


class Embedding(Function):
    """Rows of `weight` picked by integer ids; backward adds each row's gradient back (ids may
    repeat, so the scatter must add, not assign). On a CPU the gradient is a RowGradient: the
    summed rows of the distinct ids, which autograd adds into the table's dense gradient."""

    def forward(self, weight, ids):
        self.shape = weight.shape
        self.save_for_backward(ids)
        return weight[ids]                                       # (*ids.shape, d)

    def backward(self, g):
        (ids,) = self.saved
        xp = get_array_module(g)
        flat_ids = ids.reshape(-1)
        flat_g = g.reshape(-1, self.shape[1])
        if xp is np:                                   # only the rows the ids touched
            return RowGradient(self.shape,
                               *kernels.embedding_backward.cpu_row_sums(flat_ids, flat_g))
        import cupyx
        grad = xp.zeros(self.shape, dtype=g.dtype)
        cupyx.scatter_add(grad, flat_ids, flat_g)
        return grad


class DropoutMasks:
    """Where dropout's masks come from: the explicit randomness of a model's dropout sites.

        masks = DropoutMasks(np.random.default_rng(seed))
        keep = masks.keep((B, T, d), p, xp)        # bool (B, T, d) on xp's device

    Every mask is drawn for a batch-first shape (B, ...): dropout in T5 acts on activations
    (B, L, d) and attention weights (B, H, Lq, Lk). For data parallelism (`global_rows`,
    `rows`) a mask is drawn for the whole batch (global_rows, ...) and this rank keeps its
    `rows`, so a row's mask does not depend on how many ranks share the batch.

    What "same seed, same mask" means:
    - On a CPU (NumPy arrays) a mask is `generator.random(shape) >= p`, drawn from the numpy
      Generator's own stream: the same Generator state gives the same masks, bit for bit
      (recorded runs, resumed runs and the demo rely on it).
    - On a GPU (CuPy arrays) a mask is drawn on the device, so that no mask crosses the bus:
      from a CuPy Generator seeded, on first use, with one 64-bit number drawn from the numpy
      Generator. A GPU run with the same seed repeats its own masks bit for bit; its masks have
      the same distribution as the CPU's (each element kept with probability 1 - p,
      independently) but are not the same bits, so a CPU run and a GPU run agree in
      distribution, not element for element.
    """

    def __init__(self, generator, global_rows=None, rows=None):
        if not isinstance(generator, np.random.Generator):
            raise TypeError("dropout needs an explicit numpy Generator "
                            f"(np.random.default_rng(seed)), got {type(generator).__name__}")
        if (global_rows is None) != (rows is None):
            raise ValueError("give global_rows and rows together (a rank's share of a batch), "
                             "or neither")
        self.generator, self.global_rows, self.rows = generator, global_rows, rows
        self._device = None                      # the CuPy Generator, made on first GPU use

    def _draw_shape(self, shape):
        shape = tuple(shape)
        if self.rows is None:
            return shape
        if not shape or len(range(self.global_rows)[self.rows]) != shape[0]:
            raise ValueError(f"a dropout mask of shape {shape} for rows {self.rows} of a "
                             f"{self.global_rows}-row batch: the first axis must be this "
                             "rank's rows of the batch")
        return (self.global_rows, *shape[1:])

    def uniform(self, shape, xp, dtype=np.float64):
        """Uniform [0, 1) numbers of `shape` on xp's device (the first axis the batch)."""
        draw = self._draw_shape(shape)
        if xp is np:
            u = self.generator.random(draw)                                 # float64
        else:
            if self._device is None:
                seed = int(self.generator.integers(2 ** 63))
                self._device = xp.random.default_rng(seed)
            u = self._device.random(draw, dtype=dtype)
        return u if self.rows is None else u[self.rows]

    def keep(self, shape, p, xp):
        """A bool mask of `shape` on xp's device: True (kept) with probability 1 - p."""
        dtype = np.float64 if xp is np else np.float32
        return self.uniform(shape, xp, dtype) >= p


class Dropout(Function):
    """Zero each element with probability p, scale the rest by 1 / (1 - p).

    The mask comes from a `DropoutMasks` (drawn on the arrays' own device) and is kept for
    backward as bool, one byte per element; the scale 0 or 1 / (1 - p) is rebuilt from it.
    """

    def forward(self, x, p, masks):
        xp = get_array_module(x)
        keep = masks.keep(x.shape, p, xp)                        # (x.shape), bool
        self.p = p
        self.save_for_backward(keep)
        return x * self._scale(keep, x.dtype)

    def _scale(self, keep, dtype):
        scale = keep.astype(dtype)                               # 1 or 0, in x's dtype
        scale *= dtype.type(1.0 / (1.0 - self.p))                # no float64 temporary
        return scale

    def backward(self, g):
        (keep,) = self.saved
        return g * self._scale(keep, g.dtype)


# ---- the functional API ------------------------------------------------------------------


def softmax(x, axis=-1):
    return Softmax.apply(x, axis=axis)


def attention_softmax(scores, position_bias):
    """T5's attention weights: softmax(scores + position_bias) over the keys (last) axis.

    scores (B, H, Lq, Lk); position_bias (1|B, H, Lq, Lk), the relative bias with the additive
    mask folded in. One fused kernel on a GPU.
    """
    return AttentionSoftmax.apply(scores, position_bias)


def log_softmax(x, axis=-1):
    return LogSoftmax.apply(x, axis=axis)


def relu(x):
    return ops.relu(x)


def gelu_new(x):
    return GeluNew.apply(x)


def gated_gelu(a, b):
    """gelu_new(a) * b: T5 v1.1's gated FFN hidden layer (a = wi_0 x, b = wi_1 x). One fused
    kernel on a GPU for same-shaped inputs."""
    return GatedGelu.apply(a, b)


def gelu(x):
    """The exact (erf) GELU, HF's "gelu"."""
    return GeluExact.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def silu(x):
    return x * sigmoid(x)


# The activation table: feed_forward_proj's activation names, spelt as HF's ACT2FN spells them.
# T5Config validates against its keys and the FFN looks its activation up here.
ACTIVATIONS = {"relu": relu, "gelu_new": gelu_new, "gelu": gelu, "silu": silu, "swish": silu}


def rms_norm(x, weight, eps=1e-6):
    return RMSNorm.apply(x, weight, eps=eps)


def linear(x, weight):
    return Linear.apply(x, weight)


def check_ids(ids, num_embeddings):
    """IndexError unless every id lies in [0, num_embeddings). Reads the ids on the host (a
    device sync on a GPU), so the model checks its ids once, at its boundary, instead."""
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= num_embeddings):
        raise IndexError(f"embedding ids must lie in [0, {num_embeddings}), got values from "
                         f"{int(ids.min())} to {int(ids.max())}")


def embedding(weight, ids, validated=False):
    """weight[ids] for an integer array `ids`, checked to lie in range unless the caller has
    validated them already (validated=True: the model, whose ids were checked at its input)."""
    ids = ids.data if isinstance(ids, Tensor) else ids
    ids = get_array_module(weight).asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding ids must be integers, got dtype {ids.dtype}")
    if not validated:
        check_ids(ids, weight.shape[0])
    return Embedding.apply(weight, ids=ids)


def dropout(x, p, rng, training=True):
    """Zero each element with probability p and scale the rest by 1/(1-p); identity when not
    training or p == 0. `rng` is the explicit randomness: a DropoutMasks, or a numpy Generator
    (drawn from as DropoutMasks(rng) does; the mask's first axis is the batch)."""
    if not training or p == 0.0:
        return x
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if isinstance(rng, np.random.Generator):
        rng = DropoutMasks(rng)
    if not isinstance(rng, DropoutMasks):
        raise ValueError("dropout in training mode needs an explicit numpy Generator "
                         "(rng=np.random.default_rng(seed)) or a DropoutMasks, got "
                         f"{type(rng).__name__}")
    return Dropout.apply(x, p=p, masks=rng)


def cross_entropy(logits, labels, ignore_index=IGNORE_INDEX, validated=False):
    """Mean cross entropy of logits (..., V) against integer labels (...).

    Every label must be a class id in [0, V) or ignore_index: anything else is a ValueError,
    on every device (kernels.cross_entropy.check_labels). validated=True skips that check (and
    its device sync) for labels the caller has checked already, as the model does.
    """
    labels = labels.data if isinstance(labels, Tensor) else labels
    labels = get_array_module(logits).asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: labels must be integer class ids, got dtype "
                        f"{labels.dtype}")
    if labels.shape != tuple(logits.shape[:-1]):
        raise ValueError(f"cross_entropy: labels of shape {labels.shape} do not match logits of "
                         f"shape {tuple(logits.shape)} (labels must be logits.shape[:-1])")
    if not validated:
        kernels.cross_entropy.check_labels(labels, logits.shape[-1], ignore_index)
    return CrossEntropy.apply(logits, labels, ignore_index=ignore_index)
