"""Fused cross entropy: log-softmax and the negative log-likelihood of the label, per row.

The loss of T5 (paper §3.1.4) is the mean over counted positions of lse(z) - z[label], with
lse(z) = log sum_j exp(z_j) and positions whose label is ignore_index (-100) left out. The logits
are the biggest array of the model, (N, V) with V = 32128, so every pass over them counts.
Composed: max (1 read), z - m (1 read, 1 write), exp (1 read, 1 write), sum (1 read), and the
gather of z[label]; backward builds softmax = exp(z - lse) (1 read, 1 write), subtracts the one-hot
and scales (2 more read/write pairs).

Forward kernel, one block per row: the row max and sum of exp(z - max) in shared memory, then
lse and the row's loss (0 for an ignored row): 2 reads of the row (the second mostly from L2),
and only two numbers per row written: `loss` (N,) and `lse` (N,). Nothing (N, V) is kept.
Backward kernel, one block per row: dz = (exp(z - lse) - onehot(label)) * scale, scale =
g / count for counted rows and 0 otherwise: 1 read and 1 write of (N, V), the softmax computed
once, in registers, never stored.
"""
from __future__ import annotations

import numpy as np

from minit5.backend import get_array_module
from minit5.kernels import _cpu, _cuda
from minit5.kernels._dispatch import Op
from minit5.labels import IGNORE_INDEX

SOURCE = r"""
template <typename T>
__global__ void cross_entropy_forward(
        const T* __restrict__ z, const long long* __restrict__ labels,   // (rows, V), (rows,)
        T* __restrict__ loss, T* __restrict__ lse,                       // (rows,), (rows,)
        const int V, const long long ignore_index) {
    __shared__ T scratch[32];
    const long long offset = (long long)blockIdx.x * V;
    T m = neg_inf<T>();
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        const T v = z[offset + j];
        m = v > m ? v : m;
    }
    m = block_max(m, scratch);
    T total = T(0);
    for (int j = threadIdx.x; j < V; j += blockDim.x) total += exp(z[offset + j] - m);
    total = block_sum(total, scratch);
    if (threadIdx.x == 0) {
        const T row_lse = m + log(total);
        const long long y = labels[blockIdx.x];
        const bool counted = y != ignore_index && y >= 0 && y < V;   // range: checked by caller
        lse[blockIdx.x] = row_lse;
        loss[blockIdx.x] = counted ? row_lse - z[offset + y] : T(0);
    }
}

template <typename T>
__global__ void cross_entropy_backward(
        const T* __restrict__ z, const long long* __restrict__ labels,
        const T* __restrict__ lse, const T* __restrict__ scale,         // (rows,), (1,): g/count
        T* __restrict__ dz, const int V, const long long ignore_index) {
    const long long row = blockIdx.x, offset = row * V;
    const long long y = labels[row];
    const T s = y != ignore_index ? scale[0] : T(0);
    const T row_lse = lse[row];
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        T p = exp(z[offset + j] - row_lse);                  // softmax, never stored
        if (j == y) p -= T(1);
        dz[offset + j] = p * s;
    }
}
"""

CUDA = _cuda.CudaSource(SOURCE, ["cross_entropy_forward", "cross_entropy_backward"])


# ---- the NumPy reference (functional.CrossEntropy on NumPy arrays) ---------------------------
def log_sum_exp(z, axis=-1):
    """log sum_j exp(z_j) along `axis` (kept as an axis of 1), shifted by the max so that exp
    cannot overflow."""
    xp = get_array_module(z)
    m = z.max(axis=axis, keepdims=True)
    return m + xp.log(xp.exp(z - m).sum(axis=axis, keepdims=True))


def reference_forward(logits, labels, ignore_index=IGNORE_INDEX):
    """(loss, lse), each (N,), for logits (N, V) and integer labels (N,); loss is 0 where
    labels == ignore_index. The mean loss is loss.sum() / (labels != ignore_index).sum()."""
    xp = get_array_module(logits)
    counted = labels != ignore_index
    safe = xp.where(counted, labels, 0)
    lse = log_sum_exp(logits, axis=1)                                            # (N, 1)
    picked = logits[xp.arange(logits.shape[0]), safe]                            # (N,)
    return (lse[:, 0] - picked) * counted, lse[:, 0]


def reference_backward(logits, labels, lse, scale, ignore_index=IGNORE_INDEX):
    """d(loss)/d(logits), (N, V): (softmax - onehot(label)) * scale on counted rows, 0 on
    ignored ones. `scale` is the upstream gradient over the count (g / count)."""
    xp = get_array_module(logits)
    counted = labels != ignore_index
    safe = xp.where(counted, labels, 0)
    grad = xp.exp(logits - lse[:, None])                                         # (N, V)
    grad[xp.arange(grad.shape[0]), safe] -= 1.0
    grad *= (counted[:, None] * scale).astype(grad.dtype)
    return grad


# ---- the one label check ---------------------------------------------
def check_labels(labels, vocab_size, ignore_index=IGNORE_INDEX):
    """ValueError unless every label is a class id in [0, vocab_size) or ignore_index.

    Without it NumPy would wrap a label of -1 to the last class and report a finite loss. It
    reads the labels on the host (a device sync on a GPU): the model checks its labels once, at
    its boundary, and calls cross entropy with validated=True.
    """
    xp = get_array_module(labels)
    bad = (labels != ignore_index) & ((labels < 0) | (labels >= vocab_size))
    if bool(bad.any()):
        where = tuple(int(i) for i in xp.argwhere(bad)[0])
        raise ValueError(f"cross_entropy: label {int(labels[where])} at position {where} is "
                         f"outside [0, {vocab_size}) and is not ignore_index={ignore_index}; "
                         "labels must be class ids, or ignore_index for positions to skip")


# ---- the CUDA kernels ------------------------------------------------------------------------
def _cuda_forward_applies(logits, labels, ignore_index=IGNORE_INDEX) -> bool:
    return (logits.dtype in _cuda.CTYPES and logits.ndim == 2
            and labels.shape == logits.shape[:1] and logits.size > 0)


def cuda_forward(logits, labels, ignore_index=IGNORE_INDEX):
    """reference_forward on the GPU, one block per row; labels are trusted (check_labels)."""
    import cupy
    rows, vocab = logits.shape
    z = cupy.ascontiguousarray(logits)
    y = cupy.ascontiguousarray(labels, dtype=cupy.int64)
    loss = cupy.empty(rows, dtype=z.dtype)
    lse = cupy.empty(rows, dtype=z.dtype)
    CUDA.launch("cross_entropy_forward", z.dtype, rows, _cuda.threads_for(vocab, most=512),
                z, y, loss, lse, np.int32(vocab), np.int64(ignore_index))
    return loss, lse


def _cuda_backward_applies(logits, labels, lse, scale, ignore_index=IGNORE_INDEX) -> bool:
    return _cuda_forward_applies(logits, labels) and lse.dtype == logits.dtype


def cuda_backward(logits, labels, lse, scale, ignore_index=IGNORE_INDEX):
    """reference_backward on the GPU, one block per row; `scale` a float or a 0-d array,
    read by the kernel through a pointer (no host round trip)."""
    import cupy
    rows, vocab = logits.shape
    z = cupy.ascontiguousarray(logits)
    dz = cupy.empty_like(z)
    CUDA.launch("cross_entropy_backward", z.dtype, rows, _cuda.threads_for(vocab, most=512),
                z, cupy.ascontiguousarray(labels, dtype=cupy.int64),
                cupy.ascontiguousarray(lse), _cuda.device_scalar(scale, z.dtype), dz,
                np.int32(vocab), np.int64(ignore_index))
    return dz


# ---- the CPU kernels: the reference's calls, a cache-sized block of rows at a time ---------
def _cpu_applies(logits, labels, *_, **__) -> bool:
    """(logits, labels, ...): a plain NumPy (N, V) array with (N,) labels."""
    return (_cpu.plain(logits) and logits.ndim == 2 and logits.size > 0
            and labels.shape == logits.shape[:1])


def normaliser(z, axis=-1):
    """log_sum_exp(z, axis), functional.log_softmax's normaliser: cpu_log_sum_exp for a plain
    NumPy (N, V) array over its last axis (the same numbers), the reference otherwise."""
    if _cpu.plain(z) and z.ndim == 2 and axis in (1, -1) and z.size:
        return cpu_log_sum_exp(z)
    return log_sum_exp(z, axis=axis)


def cpu_log_sum_exp(logits):
    """log_sum_exp(logits, axis=1) for a NumPy (N, V) array, equal bit for bit, without its two
    (N, V) temporaries: each block of rows is shifted by its max and exponentiated in one
    reused scratch block (kernels/_cpu.py), and only the row sums leave it. (N, 1)."""
    rows, vocab = logits.shape
    m = np.empty((rows, 1), dtype=logits.dtype)                                   # (N, 1)
    total = np.empty((rows, 1), dtype=logits.dtype)
    blocks = list(_cpu.row_blocks(rows, logits[0].nbytes))
    scratch = np.empty((blocks[0].stop - blocks[0].start, vocab), dtype=logits.dtype)
    for block in blocks:
        z = logits[block]
        e = scratch[:z.shape[0]]
        np.max(z, axis=1, keepdims=True, out=m[block])
        np.subtract(z, m[block], out=e)
        np.exp(e, out=e)
        np.sum(e, axis=1, keepdims=True, out=total[block])
    return m + np.log(total)


def cpu_forward(logits, labels, ignore_index=IGNORE_INDEX):
    """reference_forward, equal bit for bit, with the row normalisers from cpu_log_sum_exp."""
    lse = cpu_log_sum_exp(logits)                                                 # (N, 1)
    counted = labels != ignore_index
    picked = logits[np.arange(logits.shape[0]), np.where(counted, labels, 0)]     # (N,)
    return (lse[:, 0] - picked) * counted, lse[:, 0]


def cpu_backward(logits, labels, lse, scale, ignore_index=IGNORE_INDEX):
    """reference_backward, equal bit for bit: exp(z - lse), minus 1 at the label, times the
    row's scale, all three done on one block of rows while it is in cache."""
    rows, vocab = logits.shape
    counted = labels != ignore_index
    safe = np.where(counted, labels, 0)
    factor = (counted[:, None] * scale).astype(logits.dtype)                      # (N, 1)
    grad = np.empty(logits.shape, dtype=logits.dtype)                             # (N, V)
    for block in _cpu.row_blocks(rows, logits[0].nbytes):
        gb = grad[block]
        np.subtract(logits[block], lse[block, None], out=gb)
        np.exp(gb, out=gb)
        gb[np.arange(gb.shape[0]), safe[block]] -= 1.0
        gb *= factor[block]
    return grad


# ---- entry points: the CUDA kernel, the CPU kernel or the reference (kernels/_dispatch.py) ---
forward = Op("cross_entropy.forward", reference=reference_forward,
             cuda=cuda_forward, cuda_applies=_cuda_forward_applies,
             cpu=cpu_forward, cpu_applies=_cpu_applies)
forward.__doc__ = """(loss, lse) per row, as reference_forward. Labels are trusted (see
check_labels)."""
backward = Op("cross_entropy.backward", reference=reference_backward,
              cuda=cuda_backward, cuda_applies=_cuda_backward_applies,
              cpu=cpu_backward, cpu_applies=_cpu_applies)
