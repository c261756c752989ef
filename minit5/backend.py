"""The array module `xp`: NumPy on a CPU, CuPy on a GPU.

Every op in minit5 is written once against an array module and picks it from its input
(`xp = get_array_module(x)`), so model code never branches on the device. This file decides
which module is used and moves arrays between devices; beyond it, CuPy is imported only on
GPU-only paths (the kernels in minit5/kernels, and a scatter-add and erf that NumPy spells
differently), and only when they are handed CuPy arrays.

Environment switches are read here and only here, once, when minit5 is imported (`SWITCHES`);
no op ever looks at the environment:
    MINIT5_DEVICE=cpu|gpu|auto   the device used where none is given ('cpu' when unset);
    MINIT5_KERNELS=0             CuPy arrays run the NumPy code paths instead of the fused
                                 kernels of minit5/kernels (for comparing the two);
    MINIT5_TF32=1                TF32 float32 matmuls on the GPU (see minit5/kernels).
  and one fact about the launch: `mpiexec`, True when a launcher variable of Open MPI, MPICH or
  PMIx (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK) is set (minit5.train.distributed then
  joins the other ranks).
A program (or a test) that wants other values replaces them: `backend.configure(kernels=False)`.

Device choice: a `device` argument of 'cpu', 'gpu' or 'auto'; where none is given ('default'
or None), `SWITCHES.device`. `auto` uses the GPU when CuPy sees one and falls back to NumPy
otherwise; `gpu` without a usable GPU is an error that says why.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

DEVICES = ("cpu", "gpu", "auto")
DTYPES = {"float32": np.float32, "float64": np.float64}


@dataclasses.dataclass(frozen=True)
class Switches:
    """The environment switches (see the module docstring), as read once at import."""

    device: str = "cpu"
    kernels: bool = True
    tf32: bool = False
    mpiexec: bool = False


# Set by the launchers of Open MPI, MPICH / Intel MPI (PMI) and PMIx for every rank they start.
MPI_LAUNCHER_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK")


def read_switches(environ) -> Switches:
    """Switches from a mapping of environment variables (unset ones keep their defaults)."""
    return Switches(device=environ.get("MINIT5_DEVICE", "cpu").strip(),
                    kernels=environ.get("MINIT5_KERNELS", "1").strip() != "0",
                    tf32=environ.get("MINIT5_TF32", "0").strip() == "1",
                    mpiexec=any(name in environ for name in MPI_LAUNCHER_VARIABLES))


SWITCHES = read_switches(os.environ)


def configure(**changes) -> Switches:
    """Replace some switches for this process, e.g. configure(kernels=False); returns the old
    ones, so a caller can put them back with configure(**dataclasses.asdict(old))."""
    global SWITCHES
    old = SWITCHES
    SWITCHES = dataclasses.replace(SWITCHES, **changes)
    return old


_cupy = None
_cupy_checked = False
_cupy_error = None          # why CuPy is installed but cannot be used (the real exception)


def _import_cupy():
    """CuPy if it imports, else None. Importing succeeds on machines with no GPU.

    Only a missing CuPy is expected; any other import failure (a CuPy built for another CUDA,
    a missing CUDA library) is kept in `_cupy_error` and shown when a GPU is asked for.
    """
    global _cupy, _cupy_checked, _cupy_error
    if not _cupy_checked:
        _cupy_checked = True
        if SWITCHES.tf32:
            # TF32 float32 matmuls (see minit5/kernels: Precision); CuPy reads this variable
            # when the first float32 matmul picks its compute type. An explicit value wins.
            os.environ.setdefault("CUPY_TF32", "1")
        try:
            import cupy
            _cupy = cupy
        except ModuleNotFoundError as error:
            if error.name != "cupy":          # CuPy is there but one of its parts is not
                _cupy_error = error
            _cupy = None
        except ImportError as error:          # e.g. a CUDA library CuPy links against
            _cupy_error = error
            _cupy = None
    return _cupy


# The GPU extra: CuPy and the two CUDA libraries it loads at run time (no CUDA toolkit needed).
GPU_INSTALL = ('pip install -e ".[gpu]" (cupy-cuda12x, nvidia-cuda-nvrtc-cu12, '
               "nvidia-cublas-cu12)")

# A template kernel compiled the way minit5's kernels are (RawModule, name expressions).
_CHECK_KERNEL = r"""
template <typename T> __global__ void minit5_check(const T* x, T* y, const int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[i] + T(1);
}
"""

# (what is checked, what to do when it fails)
_GPU_CHECKS = (
    ("an elementwise op (CuPy compiles it with NVRTC)",
     f"NVRTC (libnvrtc.so.12) must load: {GPU_INSTALL} brings it"),
    ("a RawModule kernel (NVRTC, as minit5's kernels are built)",
     f"NVRTC (libnvrtc.so.12) must load: {GPU_INSTALL} brings it"),
    ("a float32 matmul (cuBLAS)",
     f"cuBLAS (libcublas.so.12, libcublasLt.so.12) must load: {GPU_INSTALL} brings it"),
    ("a uniform draw (cupy.random, dropout masks)",
     "cupy.random.default_rng must work: reinstall CuPy (" + GPU_INSTALL + ")"),
)

_gpu_checked = (None, None)     # (the CuPy module checked, None or (check, hint, error))


def _run_gpu_checks(cupy) -> None:
    """Raise (check, hint, error) for the first of _GPU_CHECKS that fails on device 0."""
    steps = (
        lambda: float((cupy.arange(4, dtype=cupy.float32) * 2).sum()) == 12.0,
        lambda: _check_kernel(cupy),
        lambda: float((cupy.ones((8, 8), dtype=cupy.float32)
                       @ cupy.ones((8, 8), dtype=cupy.float32)).sum()) == 512.0,
        lambda: 0.0 <= float(cupy.random.default_rng(0).random(16, dtype=cupy.float32)
                             .min()) < 1.0,
    )
    for (check, hint), step in zip(_GPU_CHECKS, steps):
        try:
            ok = step()
            cupy.cuda.Device().synchronize()
        except Exception as error:          # every failure is reported with its cause
            raise _GpuCheckFailed(check, hint, error) from None
        if not ok:
            raise _GpuCheckFailed(check, hint, "it ran but gave a wrong result")


def _check_kernel(cupy) -> bool:
    module = cupy.RawModule(code=_CHECK_KERNEL, name_expressions=["minit5_check<float>"])
    x = cupy.arange(64, dtype=cupy.float32)
    y = cupy.empty_like(x)
    module.get_function("minit5_check<float>")((1,), (64,), (x, y, np.int32(64)))
    return bool((y == x + 1).all())


class _GpuCheckFailed(Exception):
    def __init__(self, check, hint, error):
        super().__init__(check)
        self.check, self.hint, self.error = check, hint, error


def gpu_available() -> bool:
    """True when a GPU can run minit5: CuPy is installed, sees a CUDA device, and on it one
    elementwise op, one kernel compile (NVRTC) and launch, one float32 matmul (cuBLAS) and one
    uniform draw succeed. A CuPy that imports on a machine with a driver but without NVRTC or
    cuBLAS passes `cupy.is_available()` and fails only at the first kernel or matmul; these
    checks catch that here. Checked once per process (a few hundred ms on the first call, for
    the compiles); `resolve_device('gpu')` names the part that failed and the install line."""
    global _cupy_error, _gpu_checked
    cupy = _import_cupy()
    if cupy is None:
        return False
    if _gpu_checked[0] is cupy:
        return _gpu_checked[1] is None
    try:
        present = bool(cupy.is_available())
    except Exception as error:   # CuPy's own check failed (driver, runtime): say so later
        _cupy_error = error
        return False
    if not present:
        return False
    try:
        _run_gpu_checks(cupy)
        failure = None
    except _GpuCheckFailed as failed:
        failure = (failed.check, failed.hint, failed.error)
    _gpu_checked = (cupy, failure)
    return failure is None


def _why_no_gpu() -> str:
    cupy = _import_cupy()
    if _cupy_error is not None:
        return (f"CuPy is installed but cannot use CUDA: {type(_cupy_error).__name__}: "
                f"{_cupy_error}. Check that the cupy-cuda12x wheel matches the CUDA driver "
                f"(`python -c 'import cupy; cupy.show_config()'`), or reinstall: {GPU_INSTALL}.")
    if cupy is None:
        return (f"CuPy is not installed. Install the GPU extra: {GPU_INSTALL}, on a machine "
                "with an NVIDIA GPU and its driver.")
    if _gpu_checked[0] is cupy and _gpu_checked[1] is not None:
        check, hint, error = _gpu_checked[1]
        detail = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) \
            else error
        return f"CuPy sees a CUDA device, but {check} failed ({detail}). {hint}."
    return ("CuPy is installed but sees no CUDA device (cupy.is_available() is False). "
            "Run on a machine with an NVIDIA GPU, or use device='cpu'.")


def resolve_device(device: str | None = None) -> str:
    """Turn 'cpu' | 'gpu' | 'auto' | None (SWITCHES.device, from MINIT5_DEVICE) into 'cpu' or
    'gpu'."""
    if device is None or device == "default":
        device = SWITCHES.device
    device = str(device).lower()
    if device == "cuda":
        device = "gpu"
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}: use one of 'cpu', 'gpu', 'auto' "
                         "(or set MINIT5_DEVICE to one of them)")
    if device == "auto":
        return "gpu" if gpu_available() else "cpu"
    if device == "gpu" and not gpu_available():
        raise RuntimeError(f"device='gpu' was asked for, but no GPU can be used: {_why_no_gpu()}")
    return device


def xp_for(device: str | None = None):
    """The array module for a device: numpy for 'cpu', cupy for 'gpu'."""
    return _import_cupy() if resolve_device(device) == "gpu" else np


def get_array_module(*arrays):
    """numpy or cupy, whichever holds the given arrays or Tensors (numpy for Python values)."""
    cupy = _import_cupy()
    if cupy is not None:
        for a in arrays:
            # A Tensor: look at its array; but not inside a CuPy array, whose .data is a
            # MemoryPointer (that made every raw CuPy array look like NumPy).
            if not isinstance(a, (np.ndarray, cupy.ndarray)):
                a = getattr(a, "data", a)
            if isinstance(a, cupy.ndarray):
                return cupy
    return np


def device_of(array) -> str:
    """'gpu' for a CuPy array, 'cpu' otherwise."""
    return "gpu" if get_array_module(array) is not np else "cpu"


def to_device(array, device: str):
    """Copy an array to 'cpu' (NumPy) or 'gpu' (CuPy); no copy when it is already there."""
    device = resolve_device(device)
    if device == "cpu":
        return to_numpy(array)
    cupy = _import_cupy()
    return cupy.asarray(array)


def to_numpy(array) -> np.ndarray:
    """A NumPy array from a NumPy or CuPy array (a device-to-host copy for CuPy)."""
    if isinstance(array, np.ndarray):
        return array
    cupy = _import_cupy()
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy.asnumpy(array)
    return np.asarray(array)


def resolve_dtype(dtype) -> np.dtype:
    """'float32' | 'float64' | numpy dtype -> numpy dtype, with a clear error otherwise."""
    if dtype is None:
        return np.dtype(np.float32)
    if isinstance(dtype, str):
        if dtype not in DTYPES:
            raise ValueError(f"unsupported dtype {dtype!r}: use 'float32' (default) or 'float64'")
        return np.dtype(DTYPES[dtype])
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"unsupported dtype {dt}: use float32 (default) or float64")
    return dt
