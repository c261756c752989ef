"""Fused gated GELU: h = gelu_new(a) * b, T5 v1.1's FFN hidden layer (a = wi_0 x, b = wi_1 x).

gelu_new(a) = 0.5 a (1 + t), t = tanh(sqrt(2/pi) (a + 0.044715 a^3)). All arrays are (N, d_ff),
the widest activations of a v1.1 model. Composed: a^3, the sum, the scaling, tanh, 1 + t, the
products (about 6 passes over a, each writing a temporary), then h = gelu * b (2 reads, 1 write),
and backward keeps a, t, gelu(a) and b alive (4 arrays). The forward kernel reads a and b and
writes h (2 reads, 1 write); backward reads a, b and g and writes da and db in one pass
(3 reads, 2 writes), recomputing t from a instead of storing it, so only a and b (which the
linear layers produced anyway) are kept.

    dh/db = gelu_new(a)
    dh/da = b * (0.5 (1 + t) + 0.5 a (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 a^2))
"""
from __future__ import annotations

import math

import numpy as np

from minit5.backend import get_array_module
from minit5.kernels import _cuda
from minit5.kernels._dispatch import Op

GELU_C = math.sqrt(2.0 / math.pi)
THREADS = 256
MAX_BLOCKS = 65536     # grid-stride loop beyond this many blocks

SOURCE = r"""
template <typename T>
__global__ void gated_gelu_forward(
        const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ h,   // (n,) each
        const long long n) {
    const T c = T(0.7978845608028654);                      // sqrt(2 / pi)
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        const T x = a[i];
        const T t = tanh(c * (x + T(0.044715) * (x * x * x)));
        h[i] = T(0.5) * x * (T(1) + t) * b[i];
    }
}

template <typename T>
__global__ void gated_gelu_backward(
        const T* __restrict__ a, const T* __restrict__ b, const T* __restrict__ g,
        T* __restrict__ da, T* __restrict__ db, const long long n) {
    const T c = T(0.7978845608028654);
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        const T x = a[i];
        const T t = tanh(c * (x + T(0.044715) * (x * x * x)));
        const T dinner = c * (T(1) + T(3 * 0.044715) * x * x);
        const T dgelu = T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * dinner;
        da[i] = g[i] * b[i] * dgelu;
        db[i] = g[i] * (T(0.5) * x * (T(1) + t));
    }
}
"""

CUDA = _cuda.CudaSource(SOURCE, ["gated_gelu_forward", "gated_gelu_backward"])


# ---- the NumPy reference (also functional.gelu_new's maths) -------------------------------
def gelu_new(a):
    """(gelu_new(a), t): the tanh approximation 0.5 a (1 + t), and t = tanh(sqrt(2/pi) (a +
    0.044715 a^3)), which the derivative reuses. In-place steps keep the temporaries few."""
    xp = get_array_module(a)
    t = a * a
    t *= 0.044715 * GELU_C
    t += GELU_C
    t *= a                                       # sqrt(2/pi) (a + 0.044715 a^3)
    t = xp.tanh(t)
    gelu = t + 1.0
    gelu *= a
    gelu *= 0.5                                  # 0.5 a (1 + t)
    return gelu, t


def gelu_new_derivative(a, t):
    """d gelu_new / da = 0.5 (1 + t) + 0.5 a (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 a^2),
    given t from `gelu_new(a)`."""
    d = a * a
    d *= 3 * 0.044715
    d += 1.0
    d *= a
    d *= 0.5 * GELU_C                            # 0.5 a sqrt(2/pi) (1 + 3 * 0.044715 a^2)
    d *= 1.0 - t * t
    d += 0.5
    d += 0.5 * t
    return d


def reference_forward(a, b):
    """gelu_new(a) * b, elementwise (a and b broadcast like any product)."""
    return gelu_new(a)[0] * b


def reference_backward(g, a, b):
    """(da, db) for h = gelu_new(a) * b and output gradient g. With same-shaped a and b each is
    shaped like them; with broadcasting they are shaped like g (sum them back to a and b)."""
    gelu, t = gelu_new(a)
    return g * b * gelu_new_derivative(a, t), g * gelu


# ---- the CUDA kernels: one thread per element, grid-stride beyond MAX_BLOCKS blocks ---------
def _cuda_forward_applies(a, b) -> bool:
    return a.dtype in _cuda.CTYPES and b.dtype == a.dtype and b.shape == a.shape and a.size > 0


def _cuda_backward_applies(g, a, b) -> bool:
    return _cuda_forward_applies(a, b) and g.shape == a.shape and g.dtype == a.dtype


def _grid(n):
    return min(-(-n // THREADS), MAX_BLOCKS)


def cuda_forward(a, b):
    """reference_forward on the GPU for same-shaped a and b."""
    import cupy
    shape = a.shape                      # ascontiguousarray makes a 0-d array 1-d
    a, b = cupy.ascontiguousarray(a), cupy.ascontiguousarray(b)
    h = cupy.empty_like(a)
    CUDA.launch("gated_gelu_forward", a.dtype, _grid(a.size), THREADS, a, b, h,
                np.int64(a.size))
    return h.reshape(shape)


def cuda_backward(g, a, b):
    """(da, db) on the GPU, both computed in one pass."""
    import cupy
    shape = a.shape
    a, b, g = cupy.ascontiguousarray(a), cupy.ascontiguousarray(b), cupy.ascontiguousarray(g)
    da, db = cupy.empty_like(a), cupy.empty_like(a)
    CUDA.launch("gated_gelu_backward", a.dtype, _grid(a.size), THREADS, a, b, g, da, db,
                np.int64(a.size))
    return da.reshape(shape), db.reshape(shape)


# ---- entry points: the CUDA kernel or the reference (kernels/_dispatch.py) -------------------
# No CPU kernel: NumPy arrays run the reference.
forward = Op("gated_gelu.forward", reference=reference_forward,
             cuda=cuda_forward, cuda_applies=_cuda_forward_applies)
forward.__doc__ = """h = gelu_new(a) * b: the kernel for same-shaped CuPy arrays, the reference
otherwise."""
backward = Op("gated_gelu.backward", reference=reference_backward,
              cuda=cuda_backward, cuda_applies=_cuda_backward_applies)
