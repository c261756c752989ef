"""Fused Adafactor step for a factored 2-D weight (Shazeer & Stern 2018, Algorithm 4).

For a weight X (n, m) with gradient G, row state R (n,) and column state C (m,):
    R <- beta2t R + (1 - beta2t) rowmean(G^2 + eps1)
    C <- beta2t C + (1 - beta2t) colmean(G^2 + eps1)
    U  = G / sqrt(R C^T / mean(R))          = G * (1/sqrt(R / mean(R))) (1/sqrt(C))^T
    U <- U / max(1, RMS(U) / d)
    X <- X - weight_decay * lr * X - lr * U
(minit5/optim/adafactor.py explains every symbol; `lr` is alpha_t, already scaled.)

Composed, a step makes G^2 + eps1, its two means, the outer product of the factors, U, U*U for
its RMS, the clipped U and lr * U: about 8 full (n, m) temporaries written and read back, for
the shared embedding (32128 x 512) some 60 MB each in float32. The kernels here never write an
(n, m) array except X itself:
    1. `adafactor_factored_stats`  blocks loop over rows: R updated in place (a block reduction
       per row) and each block's column sums of G^2 + eps1 (P, m); CuPy adds the P rows up and
       updates C, and takes mean(R): (m,) and (n,) work only.
    2. `adafactor_update_sumsq`    sum of U^2, U computed on the fly, per-block partials.
    3. `adafactor_apply`           X <- X (1 - wd lr) - lr U / max(1, RMS(U)/d), U recomputed.
G is read 3 times and X read and written once: 5 passes instead of about 20. Scalars that live
on the device (mean(R), sum of U^2, lr) are passed by pointer, so the step never waits on the
host.
"""
from __future__ import annotations

import numpy as np

from minit5.backend import get_array_module
from minit5.kernels import _cuda
from minit5.kernels._dispatch import Op

PARTIAL_BLOCKS = 512     # kernel 1: blocks, and rows of column partial sums
THREADS = 256
MAX_BLOCKS = 1024        # kernels 2 and 3: grid-stride loops beyond this

SOURCE = r"""
template <typename T>
__device__ __forceinline__ T factored_update(T gk, T r, T row_mean, T c) {
    return (T(1) / sqrt(r / row_mean)) * (T(1) / sqrt(c)) * gk;   // G / sqrt(V), V = R C / mean R
}

template <typename T>
__global__ void adafactor_factored_stats(
        const T* __restrict__ g, T* __restrict__ row,        // (n, m), (n,) updated in place
        T* __restrict__ col_partial,                         // (gridDim.x, m) partial col sums
        const long long n, const int m, const T eps1, const T beta2t, const T one_minus_beta2t) {
    __shared__ T scratch[32];
    T* cp = col_partial + (long long)blockIdx.x * m;
    for (int j = threadIdx.x; j < m; j += blockDim.x) cp[j] = T(0);
    for (long long i = blockIdx.x; i < n; i += gridDim.x) {  // same trip count for all threads
        const long long offset = i * m;
        T s = T(0);
        for (int j = threadIdx.x; j < m; j += blockDim.x) {
            const T v = g[offset + j];
            const T sq = v * v + eps1;
            s += sq;
            cp[j] += sq;                 // column j of this block belongs to this thread alone
        }
        s = block_sum(s, scratch);
        if (threadIdx.x == 0) row[i] = beta2t * row[i] + one_minus_beta2t * (s / T(m));
    }
}

template <typename T>
__global__ void adafactor_update_sumsq(
        const T* __restrict__ g, const T* __restrict__ row, const T* __restrict__ col,
        const T* __restrict__ row_mean, T* __restrict__ partial,   // (1,), (gridDim.x,)
        const long long n, const int m) {
    __shared__ T scratch[32];
    const T rm = row_mean[0];
    T acc = T(0);
    for (long long k = blockIdx.x * (long long)blockDim.x + threadIdx.x; k < n * m;
         k += (long long)gridDim.x * blockDim.x) {
        const T u = factored_update(g[k], row[k / m], rm, col[k % m]);
        acc += u * u;
    }
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

template <typename T>
__global__ void adafactor_apply(
        T* __restrict__ p, const T* __restrict__ g,          // (n, m): weight updated in place
        const T* __restrict__ row, const T* __restrict__ col,
        const T* __restrict__ row_mean, const T* __restrict__ sumsq, const T* __restrict__ lr,
        const long long n, const int m, const T clip_threshold, const T weight_decay) {
    const T rm = row_mean[0], alpha = lr[0];
    const T rms = sqrt(sumsq[0] / T(n * m));
    const T over = rms / clip_threshold;
    const T denom = over > T(1) ? over : T(1);
    const T decay = -weight_decay * alpha;
    for (long long k = blockIdx.x * (long long)blockDim.x + threadIdx.x; k < n * m;
         k += (long long)gridDim.x * blockDim.x) {
        const T u = factored_update(g[k], row[k / m], rm, col[k % m]) / denom * alpha;
        T pk = p[k];
        if (weight_decay != T(0)) pk = pk + decay * pk;
        p[k] = pk - u;
    }
}
"""

CUDA = _cuda.CudaSource(SOURCE, ["adafactor_factored_stats", "adafactor_update_sumsq",
                                 "adafactor_apply"])


# ---- the NumPy reference: the optimizer's maths for every factored tensor ------------------
def factored_update(grad, row, col, beta2t, eps1, axes=(0, 1)):
    """U = G / sqrt(V), V = R C / mean_a(R), after updating R (`row`) and C (`col`) in place.

    `axes` (a, b) are the factored axes (optim.adafactor.factored_axes): R is the mean of
    G^2 + eps1 over b, C the mean over a; any other axis is a batch axis.
    """
    xp = get_array_module(grad)
    a, b = axes
    sq = grad * grad + eps1                                      # G^2 + eps1
    row *= beta2t
    row += (1.0 - beta2t) * sq.mean(axis=b)                      # R: shape without b
    col *= beta2t
    col += (1.0 - beta2t) * sq.mean(axis=a)                      # C: shape without a
    # 1/sqrt(V) = 1/sqrt(R / mean_a(R)) * 1/sqrt(C), broadcast back over b and a
    r_factor = 1.0 / xp.sqrt(row / row.mean(axis=a, keepdims=True))
    c_factor = 1.0 / xp.sqrt(col)
    update = xp.expand_dims(r_factor, b) * xp.expand_dims(c_factor, a)
    update *= grad
    return update


def clip_and_scale(update, lr, clip_threshold):
    """lr * U / max(1, RMS(U) / d), in place on U; `lr` a float or a 0-d device array."""
    xp = get_array_module(update)
    update /= xp.maximum(xp.sqrt(xp.mean(update * update)) / clip_threshold, 1.0)
    update *= lr
    return update


def apply_update(param, update, lr, weight_decay=0.0):
    """X <- X - weight_decay * lr * X - update, in place (decay first, as transformers)."""
    if weight_decay != 0.0:
        param += (-weight_decay * lr) * param
    param -= update


def reference_update(param, grad, row, col, lr, beta2t, eps1, clip_threshold,
                     weight_decay=0.0, axes=(0, 1)):
    """One step, in place on param, row and col. `lr` is alpha_t (a float or a 0-d array),
    `beta2t` the decay of this step."""
    update = factored_update(grad, row, col, beta2t, eps1, axes)
    apply_update(param, clip_and_scale(update, lr, clip_threshold), lr, weight_decay)


# ---- the CUDA kernels: a C-contiguous 2-D weight ---------------------------------------------
def _cuda_applies(param, grad, row, col, lr=None, beta2t=None, eps1=None, clip_threshold=None,
                  weight_decay=0.0, axes=(0, 1)) -> bool:
    return (tuple(axes) == (0, 1) and param.dtype in _cuda.CTYPES
            and param.ndim == 2 and param.flags.c_contiguous and row.flags.c_contiguous
            and col.flags.c_contiguous and param.size > 0
            and grad.dtype == row.dtype == col.dtype == param.dtype
            and grad.shape == param.shape and row.shape == param.shape[:1]
            and col.shape == param.shape[1:])


def cuda_update(param, grad, row, col, lr, beta2t, eps1, clip_threshold, weight_decay=0.0,
                axes=(0, 1)):
    """reference_update on the GPU, in place: three kernels, no (n, m) temporary."""
    import cupy
    n, m = param.shape
    dtype = param.dtype
    g = cupy.ascontiguousarray(grad)
    blocks = min(n, PARTIAL_BLOCKS)
    col_partial = cupy.empty((blocks, m), dtype=dtype)                          # (P, m)
    CUDA.launch("adafactor_factored_stats", dtype, blocks, _cuda.threads_for(m), g, row,
                col_partial, np.int64(n), np.int32(m), _cuda.c_scalar(eps1, dtype),
                _cuda.c_scalar(beta2t, dtype), _cuda.c_scalar(1.0 - beta2t, dtype))
    col *= beta2t
    col += (1.0 - beta2t) * (col_partial.sum(axis=0) / n)                       # C, (m,)
    row_mean = row.mean().reshape(1)

    grid = min(-(-n * m // THREADS), MAX_BLOCKS)
    partial = cupy.empty(grid, dtype=dtype)
    CUDA.launch("adafactor_update_sumsq", dtype, grid, THREADS, g, row, col, row_mean,
                partial, np.int64(n), np.int32(m))
    CUDA.launch("adafactor_apply", dtype, grid, THREADS, param, g, row, col, row_mean,
                partial.sum().reshape(1), _cuda.device_scalar(lr, dtype), np.int64(n),
                np.int32(m), _cuda.c_scalar(clip_threshold, dtype),
                _cuda.c_scalar(weight_decay, dtype))


# ---- entry point: the CUDA kernels or the reference (kernels/_dispatch.py) -------------------
update = Op("adafactor_update.update", reference=reference_update,
            cuda=cuda_update, cuda_applies=_cuda_applies)
update.__doc__ = """One Adafactor step in place, as reference_update: three kernels for a 2-D
CuPy weight (`update.kernel_applies(...)` says whether they run)."""
