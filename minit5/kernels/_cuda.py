"""CUDA plumbing shared by the kernels: block reductions, compile on first use, launching.

Each kernel file holds one CUDA source whose kernels are C++ templates over the element type T.
`CudaSource` compiles it with NVRTC (through `cupy.RawModule`) the first time one of its kernels
is launched, never at import (importing minit5 needs neither a GPU nor a compiler), once for
T = float and once for T = double; CuPy caches the binary per device and on disk
(~/.cupy/kernel_cache), so later runs skip the compile.

Each kernel is looked up once: `CudaSource.function` keeps the RawKernel of every
(kernel, dtype) it has built, so a launch costs a dictionary lookup, not a new RawKernel.

`nvrtc_compile` compiles a source for a given architecture without touching a device (and
without CuPy: kernels/_nvrtc.py calls NVRTC through ctypes), with the options CuPy's RawModule
uses, so the tests catch a kernel that does not compile on a machine with no GPU.
"""
from __future__ import annotations

import numpy as np

from minit5 import backend

CTYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}

# The options CuPy's RawModule hands NVRTC for these sources besides -arch (CuPy 14:
# cupy._core.core.compile_with_cache adds --std=c++17 and include paths, which sources without
# #include do not use; cupy.cuda.compiler adds -ftz=true, -arch and
# --device-as-default-execution-space, and --pch from NVRTC 12.8 on, a precompiled-header
# cache that changes no code). `nvrtc_compile` repeats them so that the offline check compiles
# the source the way a GPU run will; tests/kernels/test_compile.py compares them with what an
# installed CuPy really passes. -ftz=true: float32 denormals are flushed to zero, as in every
# CuPy kernel.
CUPY_NVRTC_OPTIONS = ("--std=c++17", "-ftz=true", "--device-as-default-execution-space")

# Block-wide reductions for one-block-per-row kernels. Contract: blockDim.x is a multiple of
# 32 (a warp) and at most 1024, every thread of the block calls the function (it synchronises),
# and `scratch` is a __shared__ array of 32 T. Every thread gets the block's total back.
REDUCE_SOURCE = r"""
template <typename T> __device__ __forceinline__ T neg_inf();      // -infinity, max's identity
template <> __device__ __forceinline__ float neg_inf<float>() {
    return __int_as_float(0xff800000);
}
template <> __device__ __forceinline__ double neg_inf<double>() {
    return __longlong_as_double(0xfff0000000000000LL);
}

template <typename T> __device__ __forceinline__ T warp_sum(T v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;                                  // every lane holds the warp's sum
}

template <typename T> __device__ __forceinline__ T warp_max(T v) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        T other = __shfl_xor_sync(0xffffffffu, v, offset);
        v = other > v ? other : v;
    }
    return v;
}

template <typename T> __device__ T block_sum(T v, T* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();                           // a previous call may still be reading scratch
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    return warp_sum(lane < warps ? scratch[lane] : T(0));   // each warp adds the warp totals
}

template <typename T> __device__ T block_max(T v, T* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    return warp_max(lane < warps ? scratch[lane] : neg_inf<T>());
}
"""


def use_kernels(array) -> bool:
    """True for a CuPy array (or a Tensor holding one) unless the kernels are switched off
    (MINIT5_KERNELS=0 at import, or `backend.configure(kernels=False)`)."""
    return backend.SWITCHES.kernels and backend.get_array_module(array) is not np


def threads_for(n: int, most: int = 256) -> int:
    """Threads per block for a row of n elements: a multiple of 32, from 32 up to `most`
    (a longer row is covered by each thread looping with stride blockDim.x)."""
    return int(min(most, max(32, -(-int(n) // 32) * 32)))


def c_scalar(value, dtype):
    """A Python number as the kernel's T (CuPy passes a NumPy scalar with its exact C type)."""
    return np.dtype(dtype).type(value)


def device_scalar(value, dtype):
    """A float or 0-d array as a 1-element device array of `dtype` (read in-kernel via a
    pointer, so a value that lives on the GPU never makes a round trip to the host)."""
    import cupy
    return cupy.asarray(value, dtype=dtype).reshape(1)


class CudaSource:
    """One CUDA source with template kernels, compiled on first use for float and double."""

    def __init__(self, source: str, kernels):
        self.code = REDUCE_SOURCE + source
        self.kernels = tuple(kernels)
        self._module = None
        self._functions = {}                     # (kernel, dtype) -> cupy.RawKernel

    def name_expressions(self):
        """What the module instantiates: kernel<float> and kernel<double> for every kernel."""
        return [f"{k}<{t}>" for k in self.kernels for t in CTYPES.values()]

    def function(self, kernel: str, dtype):
        """The compiled kernel<T>, built on the first call and kept (RawModule.get_function
        makes a new RawKernel object each time it is asked)."""
        key = (kernel, np.dtype(dtype))
        found = self._functions.get(key)
        if found is None:
            from minit5.kernels._nvrtc import thread_locale_kept
            with thread_locale_kept():          # RawModule compiles with NVRTC, in this thread
                if self._module is None:
                    import cupy
                    self._module = cupy.RawModule(code=self.code,
                                                  name_expressions=self.name_expressions())
                found = self._module.get_function(f"{kernel}<{CTYPES[key[1]]}>")
            self._functions[key] = found
        return found

    def launch(self, kernel: str, dtype, grid: int, block: int, *args):
        """kernel<T>(args) on `grid` blocks of `block` threads (1-D), T from `dtype`. Scalars in
        args must already be NumPy scalars of the C parameter's type (np.int32 for int,
        np.int64 for long long, c_scalar(x, dtype) for T)."""
        self.function(kernel, dtype)((int(grid),), (int(block),), args)


def nvrtc_options(arch: str = "compute_80"):
    """The NVRTC options of a GPU run for architecture `arch` (compute_XX: PTX; sm_XX: a
    cubin)."""
    return (f"-arch={arch}", *CUPY_NVRTC_OPTIONS)


def nvrtc_compile(source: CudaSource, arch: str = "compute_80"):
    """Compile `source` as a GPU run does (every name expression, `nvrtc_options(arch)`) with
    NVRTC, without a GPU or CuPy; return the PTX (compute_XX) or the cubin bytes (sm_XX).

    Raises OSError naming the install line when NVRTC cannot be loaded, and
    RuntimeError (kernels._nvrtc.CompileError) with the compiler's log when the source does not
    compile.
    """
    from minit5.kernels import _nvrtc
    program = _nvrtc.compile_source(source.code, nvrtc_options(arch), source.name_expressions())
    return program.ptx if program.ptx is not None else program.cubin
