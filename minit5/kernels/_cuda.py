"""CUDA plumbing shared by the kernels: block reductions, compile on first use, launching.

Each kernel file holds one CUDA source whose kernels are C++ templates over the element type T.
`CudaSource` compiles it with NVRTC (through `cupy.RawModule`) the first time one of its kernels
is launched, never at import (importing minit5 needs neither a GPU nor a compiler), once for
T = float and once for T = double; CuPy caches the binary per device and on disk
(~/.cupy/kernel_cache), so later runs skip the compile.

`nvrtc_compile` compiles a source for a given architecture without touching a device, so the
tests can catch a syntax error in a kernel on a machine that has NVRTC but no GPU.
"""
from __future__ import annotations

import numpy as np

from minit5 import backend

CTYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}

# Options CuPy adds to every NVRTC compile (besides -arch), repeated by `nvrtc_compile` so that
# the offline check compiles the source the way a GPU run will. -ftz=true: float32 denormals
# are flushed to zero, as in every CuPy kernel.
CUPY_NVRTC_OPTIONS = ("-ftz=true", "--device-as-default-execution-space")

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

    def name_expressions(self):
        return [f"{k}<{t}>" for k in self.kernels for t in CTYPES.values()]

    def function(self, kernel: str, dtype):
        if self._module is None:
            import cupy
            self._module = cupy.RawModule(code=self.code,
                                          name_expressions=self.name_expressions())
        return self._module.get_function(f"{kernel}<{CTYPES[np.dtype(dtype)]}>")

    def launch(self, kernel: str, dtype, grid: int, block: int, *args):
        """kernel<T>(args) on `grid` blocks of `block` threads (1-D), T from `dtype`. Scalars in
        args must already be NumPy scalars of the C parameter's type (np.int32 for int,
        np.int64 for long long, c_scalar(x, dtype) for T)."""
        self.function(kernel, dtype)((int(grid),), (int(block),), args)


def nvrtc_compile(source: CudaSource, arch: str = "compute_80") -> str:
    """Compile `source` for a virtual architecture with NVRTC and return the PTX; no GPU needed.

    Raises ImportError (or CuPy's library-loading error) when NVRTC cannot be loaded, and
    RuntimeError with the compiler's log when the source does not compile.
    """
    from cupy_backends.cuda.libs import nvrtc
    program = nvrtc.createProgram(source.code, "minit5_kernel.cu", [], [])
    try:
        for name in source.name_expressions():
            nvrtc.addNameExpression(program, name)
        try:
            nvrtc.compileProgram(program, [f"-arch={arch}", *CUPY_NVRTC_OPTIONS])
        except nvrtc.NVRTCError as error:
            raise RuntimeError(f"NVRTC could not compile the kernel source ({error}):\n"
                               f"{nvrtc.getProgramLog(program)}") from None
        ptx = nvrtc.getPTX(program)
    finally:
        nvrtc.destroyProgram(program)
    return ptx.decode() if isinstance(ptx, bytes) else ptx
