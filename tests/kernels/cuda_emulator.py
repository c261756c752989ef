"""Run the CUDA kernels of minit5/kernels on the CPU, to test their logic without a GPU.

The kernel source is compiled with g++ (C++20) after a small prelude that gives the few CUDA
features the kernels use a CPU meaning:
    a block          its threads run as std::threads; blocks run one after another
    __shared__       a static variable (one block at a time, so it is that block's memory)
    __syncthreads    a std::barrier of the block's threads
    __shfl_xor_sync  lanes swap values through a slot array, between two barriers of the warp
This is stricter than a GPU: no two threads are ever in lock-step, so a kernel that forgets a
barrier may read stale or half-written values here. Whether it does depends on the scheduler;
ThreadSanitizer finds such a race every time (a missing __syncthreads in block_sum is caught):

    MINIT5_EMULATOR_TSAN=1 TSAN_OPTIONS=halt_on_error=1 \
    LD_PRELOAD=$(g++ -print-file-name=libtsan.so) pytest -s tests/kernels/test_kernels_emulated.py

Arithmetic is the host's (glibc exp, no -ftz), so results agree with the GPU's to float
rounding, not bit for bit.

`install(monkeypatch)` makes the real entry points (forward, backward, update) take their kernel
path on NumPy arrays: `use_kernels` says yes, `import cupy` inside them finds a NumPy stand-in
for the few functions they call, and `CudaSource.launch` runs the emulated kernel.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import pathlib
import subprocess
import sys
import types

import numpy as np

from minit5 import backend
from minit5.kernels import _cuda

PRELUDE = r"""
#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>
using std::exp; using std::log; using std::sqrt; using std::tanh;
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
struct emu_dim3 { unsigned x, y, z; };
thread_local emu_dim3 threadIdx;
emu_dim3 blockIdx, blockDim, gridDim;
std::barrier<>* emu_block_barrier;
std::barrier<>* emu_warp_barrier[32];
double emu_slot[1024];
inline void __syncthreads() { emu_block_barrier->arrive_and_wait(); }
template <typename T> T __shfl_xor_sync(unsigned, T v, int lane_mask) {
    const int tid = threadIdx.x, warp = tid >> 5;
    emu_slot[tid] = (double)v;                       // exact for float and double
    emu_warp_barrier[warp]->arrive_and_wait();
    const T other = (T)emu_slot[tid ^ lane_mask];
    emu_warp_barrier[warp]->arrive_and_wait();       // nobody overwrites a slot still unread
    return other;
}
inline float __int_as_float(int x) { float f; std::memcpy(&f, &x, 4); return f; }
inline double __longlong_as_double(long long x) { double d; std::memcpy(&d, &x, 8); return d; }
template <typename F> void emu_launch(int grid, int block, F body) {
    blockDim = {(unsigned)block, 1, 1}; gridDim = {(unsigned)grid, 1, 1};
    std::barrier<> block_barrier(block);
    emu_block_barrier = &block_barrier;
    std::vector<std::unique_ptr<std::barrier<>>> warps;
    for (int w = 0; w < block / 32; ++w) {
        warps.emplace_back(new std::barrier<>(32));
        emu_warp_barrier[w] = warps.back().get();
    }
    for (int b = 0; b < grid; ++b) {
        blockIdx = {(unsigned)b, 0, 0};
        std::vector<std::thread> threads;
        for (int t = 0; t < block; ++t)
            threads.emplace_back([&, t] { threadIdx = {(unsigned)t, 0, 0}; body(); });
        for (auto& thread : threads) thread.join();
    }
}
"""

# Each kernel's parameters: p = T*, l = long long*, i = int, q = long long, t = T.
SIGNATURES = {
    "attention_softmax_forward": "pppiiiqqqq", "attention_softmax_backward": "pppi",
    "rms_norm_forward": "ppppit", "rms_norm_backward": "ppppppqi",
    "cross_entropy_forward": "plppiq", "cross_entropy_backward": "plpppiq",
    "gated_gelu_forward": "pppq", "gated_gelu_backward": "pppppq",
    "adafactor_factored_stats": "pppqittt", "adafactor_update_sumsq": "pppppqi",
    "adafactor_apply": "pppppppqitt",
}
_ARGUMENT = {"p": "({t}*)a[{i}]", "l": "(long long*)a[{i}]", "i": "*(int*)a[{i}]",
             "q": "*(long long*)a[{i}]", "t": "*({t}*)a[{i}]"}
_C_TYPE = {"i": np.int32, "q": np.int64}


def available() -> str | None:
    """None if g++ can build the emulator here, else why not."""
    try:
        subprocess.run(["g++", "--version"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "g++ is not installed"
    return None


class Emulator:
    """All the given CudaSources compiled into one host library (one g++ run, ~5 s)."""

    def __init__(self, build_dir, sources):
        code = PRELUDE + _cuda.REDUCE_SOURCE
        for source in sources:
            assert source.code.startswith(_cuda.REDUCE_SOURCE)
            code += source.code[len(_cuda.REDUCE_SOURCE):]
            for kernel in source.kernels:
                for t in _cuda.CTYPES.values():
                    args = ", ".join(_ARGUMENT[c].format(t=t, i=i)
                                     for i, c in enumerate(SIGNATURES[kernel]))
                    code += (f'\nextern "C" void run_{kernel}_{t}(int grid, int block, '
                             f'void** a) {{ emu_launch(grid, block, [&]() '
                             f'{{ {kernel}<{t}>({args}); }}); }}\n')
        tsan = os.environ.get("MINIT5_EMULATOR_TSAN") == "1"
        key = hashlib.sha1(f"{code}{tsan}".encode()).hexdigest()[:16]
        cpp, so = pathlib.Path(build_dir) / f"{key}.cpp", pathlib.Path(build_dir) / f"{key}.so"
        cpp.write_text(code)
        flags = ["-O1", "-g", "-fsanitize=thread"] if tsan else ["-O1"]
        subprocess.run(["g++", "-std=c++20", "-pthread", "-shared", "-fPIC", *flags, str(cpp),
                        "-o", str(so)], check=True, capture_output=True)
        self.library = ctypes.CDLL(str(so))
        self.launches = []                     # (kernel, grid, block), in order

    def launch(self, kernel, dtype, grid, block, *args):
        """What CudaSource.launch does on a GPU, checking the argument types on the way."""
        dtype = np.dtype(dtype)
        signature = SIGNATURES[kernel]
        assert len(args) == len(signature), f"{kernel}: {len(args)} arguments"
        assert block % 32 == 0 and 32 <= block <= 1024 and grid >= 1, (kernel, grid, block)
        pointers, keep = [], []
        for code, arg in zip(signature, args):
            if code in "pl":
                want = np.int64 if code == "l" else dtype
                assert isinstance(arg, np.ndarray) and arg.dtype == want, (kernel, code, arg)
                pointers.append(arg.ctypes.data)
            else:
                want = dtype.type if code == "t" else _C_TYPE[code]
                assert type(arg) is want, f"{kernel}: {type(arg).__name__}, not {want.__name__}"
                keep.append(np.array([arg], dtype=want))
                pointers.append(keep[-1].ctypes.data)
        self.launches.append((kernel, grid, block))
        run = getattr(self.library, f"run_{kernel}_{_cuda.CTYPES[dtype]}")
        run(ctypes.c_int(grid), ctypes.c_int(block), (ctypes.c_void_p * len(pointers))(*pointers))


def install(monkeypatch, emulator: Emulator) -> Emulator:
    """Send the kernel entry points down their kernel path, with the kernels emulated."""
    emulator.launches.clear()
    backend._import_cupy()        # minit5 must keep the real CuPy (or None), not the stand-in
    stand_in = types.ModuleType("cupy")          # the CuPy functions the entry points call
    for name in ("ascontiguousarray", "asarray", "broadcast_to", "empty", "empty_like", "int64"):
        setattr(stand_in, name, getattr(np, name))
    monkeypatch.setitem(sys.modules, "cupy", stand_in)
    monkeypatch.setattr(_cuda, "use_kernels", lambda array: True)
    monkeypatch.setattr(_cuda.CudaSource, "launch",
                        lambda source, kernel, dtype, grid, block, *args:
                        emulator.launch(kernel, dtype, grid, block, *args))
    return emulator
