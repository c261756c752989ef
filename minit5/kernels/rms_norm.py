"""Fused RMS norm (T5's LayerNorm): y = w * x / sqrt(mean(x^2) + eps) over the last axis.

Composed from array ops, over an (N, d) activation:
    v = mean(x * x)          1 read, 1 write (the square), 1 read
    r = 1 / sqrt(v + eps)    (N,) only
    xhat = x * r             1 read, 1 write
    y = w * xhat             1 read, 1 write
that is 4 reads and 3 writes, and xhat is kept for backward (another (N, d) array alive). The
forward kernel, one block per row, reads x once for the sum of squares and once more (from
cache) to write y: 1 read and 1 write, and saves only r, one number per row (`rstd`).

Backward, with xhat = x * r recomputed on the fly and gxhat = g * w:
    dx = r * (gxhat - xhat * mean(gxhat * xhat))      a row reduction, then elementwise
    dw = sum over rows of g * xhat                    a column reduction
Composed: about 10 passes. The kernel runs a fixed number of blocks, each looping over rows
(row = block, block + gridDim, ...): per row it reduces mean(gxhat * xhat) in shared memory and
writes dx, and every thread adds g * xhat into its own columns of the block's partial dw row.
The (blocks, d) partials are then summed by one reduction: no atomics, so dw is the same on
every run.
"""
from __future__ import annotations

import numpy as np

from minit5.backend import get_array_module
from minit5.kernels import _cpu, _cuda
from minit5.kernels._dispatch import Op

PARTIAL_BLOCKS = 512   # backward: blocks (and rows of dw partial sums), enough to fill a GPU

SOURCE = r"""
template <typename T>
__global__ void rms_norm_forward(
        const T* __restrict__ x, const T* __restrict__ w,    // (rows, d), (d,)
        T* __restrict__ y, T* __restrict__ rstd,             // (rows, d), (rows,)
        const int d, const T eps) {
    __shared__ T scratch[32];
    const long long offset = (long long)blockIdx.x * d;
    T sumsq = T(0);
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        const T v = x[offset + j];
        sumsq += v * v;
    }
    sumsq = block_sum(sumsq, scratch);
    const T r = T(1) / sqrt(sumsq / T(d) + eps);
    if (threadIdx.x == 0) rstd[blockIdx.x] = r;
    for (int j = threadIdx.x; j < d; j += blockDim.x) y[offset + j] = w[j] * (x[offset + j] * r);
}

template <typename T>
__global__ void rms_norm_backward(
        const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ rstd,
        const T* __restrict__ g,                             // (rows, d), (d,), (rows,), (rows, d)
        T* __restrict__ dx, T* __restrict__ dw_partial,      // (rows, d), (gridDim.x, d)
        const long long rows, const int d) {
    __shared__ T scratch[32];
    T* dwp = dw_partial + (long long)blockIdx.x * d;         // this block's partial dw
    for (int j = threadIdx.x; j < d; j += blockDim.x) dwp[j] = T(0);
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {   // same count per thread
        const long long offset = row * d;
        const T r = rstd[row];
        T dot = T(0);
        for (int j = threadIdx.x; j < d; j += blockDim.x) {
            const T xhat = x[offset + j] * r, gj = g[offset + j];
            dot += (gj * w[j]) * xhat;
            dwp[j] += gj * xhat;         // column j of this block belongs to this thread alone
        }
        dot = block_sum(dot, scratch) / T(d);                // mean(gxhat * xhat)
        for (int j = threadIdx.x; j < d; j += blockDim.x) {
            const T xhat = x[offset + j] * r;
            dx[offset + j] = r * (g[offset + j] * w[j] - xhat * dot);
        }
    }
}
"""

CUDA = _cuda.CudaSource(SOURCE, ["rms_norm_forward", "rms_norm_backward"])


# ---- the NumPy reference (functional.RMSNorm on NumPy arrays) ------------------------------
def reference_forward(x, weight, eps=1e-6):
    """(y, rstd): y (..., d) and rstd = 1 / sqrt(mean(x^2) + eps), shape x.shape[:-1].

    The mean of squares is accumulated in at least float32 (float16 input would overflow).
    """
    xp = get_array_module(x)
    acc = np.promote_types(x.dtype, np.float32)
    variance = (x.astype(acc, copy=False) ** 2).mean(axis=-1, keepdims=True)   # (..., 1)
    r = (1.0 / xp.sqrt(variance + eps)).astype(x.dtype, copy=False)            # (..., 1)
    return weight * (x * r), r[..., 0]


def reference_backward(g, x, weight, rstd):
    """(dx, dweight) from the output gradient g (..., d) and the saved rstd (...)."""
    r = rstd[..., None]                                                         # (..., 1)
    xhat = x * r
    gw = (g * xhat).reshape(-1, xhat.shape[-1]).sum(axis=0)                     # (d,)
    gxhat = g * weight
    gx = r * (gxhat - xhat * (gxhat * xhat).mean(axis=-1, keepdims=True))
    return gx, gw


# ---- the CUDA kernels ------------------------------------------------------------------------
def _cuda_forward_applies(x, weight, eps=1e-6) -> bool:
    return (x.dtype in _cuda.CTYPES and weight.dtype == x.dtype and x.ndim >= 1
            and weight.shape == x.shape[-1:] and x.size > 0)


def cuda_forward(x, weight, eps=1e-6):
    """reference_forward on the GPU, one block per row."""
    import cupy
    d = x.shape[-1]
    x2 = cupy.ascontiguousarray(x).reshape(-1, d)                               # (N, d)
    w = cupy.ascontiguousarray(weight)
    y = cupy.empty_like(x2)
    rstd = cupy.empty(x2.shape[0], dtype=x.dtype)                               # (N,)
    CUDA.launch("rms_norm_forward", x.dtype, x2.shape[0], _cuda.threads_for(d),
                x2, w, y, rstd, np.int32(d), _cuda.c_scalar(eps, x.dtype))
    return y.reshape(x.shape), rstd.reshape(x.shape[:-1])


def _cuda_backward_applies(g, x, weight, rstd) -> bool:
    return _cuda_forward_applies(x, weight) and g.dtype == x.dtype and g.shape == x.shape


def cuda_backward(g, x, weight, rstd):
    """reference_backward on the GPU: dx per row, dweight from per-block partial sums."""
    import cupy
    d = x.shape[-1]
    x2 = cupy.ascontiguousarray(x).reshape(-1, d)                               # (N, d)
    g2 = cupy.ascontiguousarray(g).reshape(-1, d)
    r = cupy.ascontiguousarray(rstd).reshape(-1)                                # (N,)
    rows = x2.shape[0]
    blocks = min(rows, PARTIAL_BLOCKS)
    dx = cupy.empty_like(x2)
    partial = cupy.empty((blocks, d), dtype=x.dtype)                            # (P, d)
    CUDA.launch("rms_norm_backward", x.dtype, blocks, _cuda.threads_for(d),
                x2, cupy.ascontiguousarray(weight), r, g2, dx, partial,
                np.int64(rows), np.int32(d))
    return dx.reshape(x.shape), partial.sum(axis=0)


# ---- the CPU kernels: the reference's calls with fewer temporaries (kernels/_cpu.py) --------
def _cpu_forward_applies(x, weight, eps=1e-6) -> bool:
    # d == 1: NumPy then sums dweight's single column pairwise, not row after row, and the
    # kernel's carried sum would round differently (and there is nothing to gain).
    return (_cpu.plain(x, weight) and x.dtype in (np.float32, np.float64)
            and weight.dtype == x.dtype
            and x.ndim >= 1 and weight.shape == x.shape[-1:] and x.shape[-1] > 1
            and x.size > 0)


def _cpu_backward_applies(g, x, weight, rstd) -> bool:
    return (_cpu_forward_applies(x, weight) and _cpu.plain(g) and g.shape == x.shape
            and g.dtype == x.dtype)


def cpu_forward(x, weight, eps=1e-6):
    """reference_forward, equal bit for bit, with one (N, d) temporary where the reference
    makes three: the squares' array is reused for x * r and then scaled by w in place. (An
    activation of T5 fits in the last-level cache, so walking it in blocks gains nothing.)"""
    out = np.square(x, order="C")                                               # (..., d)
    r = out.mean(axis=-1, keepdims=True)                                        # (..., 1)
    r += eps
    np.sqrt(r, out=r)
    np.divide(1.0, r, out=r)
    np.multiply(x, r, out=out)
    out *= weight
    return out, r[..., 0]


def cpu_backward(g, x, weight, rstd):
    """reference_backward, equal bit for bit, one block of rows at a time. dweight is a column
    sum over every row, which NumPy adds row after row; each block's sum starts from the
    total so far (added into its first row), so the order of the additions is kept."""
    d = x.shape[-1]
    x2 = np.ascontiguousarray(x).reshape(-1, d)                                 # (N, d)
    g2 = np.ascontiguousarray(g).reshape(-1, d)
    r2 = rstd.reshape(-1, 1)                                                    # (N, 1)
    gx = np.empty_like(x2)
    gw = None                                                                   # (d,)
    blocks = list(_cpu.row_blocks(x2.shape[0], x2[0].nbytes))
    rows = blocks[0].stop - blocks[0].start
    xhat_block, gxhat_block = (np.empty((rows, d), dtype=x.dtype) for _ in range(2))
    for block in blocks:
        xb, gb, r, out = x2[block], g2[block], r2[block], gx[block]
        xhat, gxhat = xhat_block[:xb.shape[0]], gxhat_block[:xb.shape[0]]
        np.multiply(xb, r, out=xhat)
        np.multiply(gb, xhat, out=gxhat)                      # g * xhat, for dweight
        if gw is not None:
            gxhat[0] += gw
        gw = gxhat.sum(axis=0)
        np.multiply(gb, weight, out=gxhat)
        np.multiply(gxhat, xhat, out=out)
        mean = out.mean(axis=-1, keepdims=True)
        np.multiply(xhat, mean, out=xhat)
        np.subtract(gxhat, xhat, out=xhat)
        np.multiply(r, xhat, out=out)
    return gx.reshape(x.shape), gw


# ---- entry points: the CUDA kernel, the CPU kernel or the reference (kernels/_dispatch.py) ---
forward = Op("rms_norm.forward", reference=reference_forward,
             cuda=cuda_forward, cuda_applies=_cuda_forward_applies,
             cpu=cpu_forward, cpu_applies=_cpu_forward_applies)
backward = Op("rms_norm.backward", reference=reference_backward,
              cuda=cuda_backward, cuda_applies=_cuda_backward_applies,
              cpu=cpu_backward, cpu_applies=_cpu_backward_applies)
