"""Fused attention softmax: softmax(scores + position_bias) over the keys, one block per row.

T5's attention weights are softmax(q k^T + position_bias) (paper §2.1), where position_bias,
(1|B, H, Lq, Lk), already holds the additive mask (minit5/t5/attention.py). Composed from array
ops, over a (B, H, Lq, Lk) array:
    x = scores + bias        2 reads, 1 write
    m = max(x)               1 read
    e = exp(x - m)           2 reads, 2 writes (the temporary x - m, then e)
    y = e / sum(e)           2 reads, 1 write
that is 7 reads and 4 writes of the full array, and a (1, H, Lq, Lk) bias is expanded to
(B, H, Lq, Lk) on the way. The kernel gives each row (b, h, q) one block: it reads the scores
row and the bias row (the bias through broadcast strides, never expanded), keeps the row's max
and sum in shared memory, and writes y: about 2 reads and 1 write of the array, plus a re-read
of y by the thread that wrote it (from cache) to normalise in place.

Backward: dx = y * (g - sum(g * y)) per row, one block per row: 2 reads, 1 write, where the
composed version makes g*y, its sum, g - s and the product (5 reads, 3 writes). The gradient
of the bias is dx summed over the axes the bias was broadcast along; the caller does that with
an ordinary (deterministic) reduction.
"""
from __future__ import annotations

import numpy as np

from minit5.backend import get_array_module
from minit5.kernels import _cpu, _cuda
from minit5.kernels._dispatch import Op

SOURCE = r"""
template <typename T>
__global__ void attention_softmax_forward(
        const T* __restrict__ scores,    // (rows, L), rows = B*H*Q, C-contiguous
        const T* __restrict__ bias,      // broadcast view of (B, H, Q, L), strides in elements
        T* __restrict__ out,             // (rows, L)
        const int L, const int H, const int Q,
        const long long sb, const long long sh, const long long sq, const long long sk) {
    __shared__ T scratch[32];
    const long long row = blockIdx.x;
    const long long q = row % Q, h = (row / Q) % H, b = row / ((long long)Q * H);
    const T* s = scores + row * L;
    const T* pb = bias + b * sb + h * sh + q * sq;
    T* y = out + row * L;

    T m = neg_inf<T>();
    for (int j = threadIdx.x; j < L; j += blockDim.x) {
        const T x = s[j] + pb[j * sk];
        m = x > m ? x : m;
    }
    m = block_max(m, scratch);

    T total = T(0);
    for (int j = threadIdx.x; j < L; j += blockDim.x) {
        const T e = exp(s[j] + pb[j * sk] - m);
        y[j] = e;                        // unnormalised; the same thread rescales it below
        total += e;
    }
    total = block_sum(total, scratch);
    for (int j = threadIdx.x; j < L; j += blockDim.x) y[j] = y[j] / total;
}

template <typename T>
__global__ void attention_softmax_backward(
        const T* __restrict__ y, const T* __restrict__ g, T* __restrict__ dx, const int L) {
    __shared__ T scratch[32];
    const long long offset = (long long)blockIdx.x * L;
    T dot = T(0);
    for (int j = threadIdx.x; j < L; j += blockDim.x) dot += g[offset + j] * y[offset + j];
    dot = block_sum(dot, scratch);
    for (int j = threadIdx.x; j < L; j += blockDim.x)
        dx[offset + j] = y[offset + j] * (g[offset + j] - dot);
}
"""

CUDA = _cuda.CudaSource(SOURCE, ["attention_softmax_forward", "attention_softmax_backward"])


# ---- the NumPy reference (also functional.softmax's maths) ---------------------------------
def softmax(x, axis=-1):
    """exp(x - max) / sum(exp(x - max)) along `axis`; subtracting the max keeps exp finite."""
    xp = get_array_module(x)
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_backward(y, g, axis=-1):
    """Gradient of softmax's input from its output y and the output gradient g:
    y * (g - sum(g * y)) along `axis`."""
    return y * (g - (g * y).sum(axis=axis, keepdims=True))


def reference_forward(scores, position_bias):
    """softmax(scores + position_bias) over the last axis. (..., Lk) -> (..., Lk)."""
    return softmax(scores + position_bias, axis=-1)


def reference_backward(y, g):
    """Gradient of the softmax input x = scores + bias, from the output y and its gradient g."""
    return softmax_backward(y, g, axis=-1)


# ---- the CUDA kernels ------------------------------------------------------------------------
def _cuda_forward_applies(scores, position_bias) -> bool:
    return (scores.dtype in _cuda.CTYPES and position_bias.dtype == scores.dtype
            and 1 <= scores.ndim <= 4 and position_bias.ndim <= scores.ndim and scores.size > 0
            and np.broadcast_shapes(scores.shape, position_bias.shape) == scores.shape)


def cuda_forward(scores, position_bias):
    """reference_forward on the GPU: one block per row, the bias read through its broadcast
    strides (never expanded)."""
    import cupy
    shape4 = (1,) * (4 - scores.ndim) + scores.shape                      # (B, H, Q, L)
    b, h, q, length = shape4
    s = cupy.ascontiguousarray(scores)
    bias4 = position_bias.reshape((1,) * (4 - position_bias.ndim) + position_bias.shape)
    bias4 = cupy.broadcast_to(bias4, shape4)              # a view: broadcast axes have stride 0
    strides = [st // bias4.itemsize for st in bias4.strides]
    out = cupy.empty_like(s)
    CUDA.launch("attention_softmax_forward", s.dtype, b * h * q, _cuda.threads_for(length),
                s, bias4, out, np.int32(length), np.int32(h), np.int32(q),
                *[np.int64(st) for st in strides])
    return out


def _cuda_backward_applies(y, g) -> bool:
    return y.dtype in _cuda.CTYPES and g.dtype == y.dtype and g.shape == y.shape and y.size > 0


def cuda_backward(y, g):
    """reference_backward on the GPU, one block per row."""
    import cupy
    length = y.shape[-1]
    y, g = cupy.ascontiguousarray(y), cupy.ascontiguousarray(g)
    dx = cupy.empty_like(y)
    CUDA.launch("attention_softmax_backward", y.dtype, y.size // length,
                _cuda.threads_for(length), y, g, dx, np.int32(length))
    return dx


# ---- the CPU kernels: the reference's calls, a cache-sized block of rows at a time ---------
def cpu_forward(scores, position_bias):
    """reference_forward, equal bit for bit: add the bias, subtract the row max, exp, divide by
    the row sum, all in one new C-ordered output and one block of it at a time
    (kernels/_cpu.py), so the scores are read from memory once and the output written once.
    The reference makes four (..., Lk) arrays, each a pass through memory."""
    shape = np.broadcast_shapes(scores.shape, position_bias.shape)
    if shape != scores.shape or scores.ndim == 0 or scores.size == 0:
        return reference_forward(scores, position_bias)
    out = np.empty(shape, dtype=np.result_type(scores, position_bias))
    bias = np.broadcast_to(position_bias, shape)                         # a view, no copy
    for block in _cpu.leading_blocks(shape, out.itemsize):
        x = out[block]
        np.add(scores[block], bias[block], out=x)
        x -= x.max(axis=-1, keepdims=True)
        np.exp(x, out=x)
        np.divide(x, x.sum(axis=-1, keepdims=True), out=x)
    return out


def cpu_backward(y, g):
    """reference_backward, y * (g - sum(g * y)) per row, equal bit for bit, block by block
    into one new array."""
    shape = np.broadcast_shapes(y.shape, g.shape)
    dtype = np.result_type(y, g)
    if y.shape != shape or g.shape != shape or y.size == 0:
        return reference_backward(y, g)
    dx = np.empty(shape, dtype=dtype)
    y2 = np.ascontiguousarray(y).reshape(-1, shape[-1])                   # (N, Lk)
    g2 = np.ascontiguousarray(g).reshape(-1, shape[-1])
    d2 = dx.reshape(-1, shape[-1])
    for block in _cpu.row_blocks(d2.shape[0], d2[0].nbytes):
        yb, gb, db = y2[block], g2[block], d2[block]
        np.multiply(gb, yb, out=db)
        np.subtract(gb, db.sum(axis=-1, keepdims=True), out=db)
        db *= yb
    return dx


# ---- entry points: the CUDA kernel, the CPU kernel or the reference (kernels/_dispatch.py) ---
forward = Op("attention_softmax.forward", reference=reference_forward,
             cuda=cuda_forward, cuda_applies=_cuda_forward_applies,
             cpu=cpu_forward, cpu_applies=_cpu.plain)
forward.__doc__ = """softmax(scores + position_bias) over the last axis; position_bias broadcasts
to scores."""
backward = Op("attention_softmax.backward", reference=reference_backward,
              cuda=cuda_backward, cuda_applies=_cuda_backward_applies,
              cpu=cpu_backward, cpu_applies=_cpu.plain)
backward.__doc__ = """d(loss)/d(scores + bias) from the softmax output y and the gradient g of
the loss in y."""
