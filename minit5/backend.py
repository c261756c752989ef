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


def gpu_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA device."""
    global _cupy_error
    cupy = _import_cupy()
    if cupy is None:
        return False
    try:
        return bool(cupy.is_available())
    except Exception as error:   # CuPy's own check failed (driver, runtime): say so later
        _cupy_error = error
        return False


def _why_no_gpu() -> str:
    cupy = _import_cupy()
    if _cupy_error is not None:
        return (f"CuPy is installed but cannot use CUDA: {type(_cupy_error).__name__}: "
                f"{_cupy_error}. Check that the cupy-cuda12x wheel matches the CUDA driver "
                "(`python -c 'import cupy; cupy.show_config()'`).")
    if cupy is None:
        return ("CuPy is not installed. Install the GPU extra: `pip install -e .[gpu]` "
                "(cupy-cuda12x), on a machine with an NVIDIA GPU.")
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
