"""The array module `xp`: NumPy on a CPU, CuPy on a GPU.

Every op in minit5 is written once against an array module and picks it from its input
(`xp = get_array_module(x)`), so model code never branches on the device. This file decides
which module is used and moves arrays between devices; beyond it, CuPy is imported only on
GPU-only paths (the kernels in minit5/kernels, and a scatter-add and erf that NumPy spells
differently), and only when they are handed CuPy arrays.

Device choice: a `device` argument of 'cpu', 'gpu' or 'auto'; where none is given ('default'
or None), `MINIT5_DEVICE=cpu|gpu|auto`, and 'cpu' when that is unset. `auto` uses the GPU when
CuPy sees one and falls back to NumPy otherwise; `gpu` without a usable GPU is an error that
says why.
"""
from __future__ import annotations

import os

import numpy as np

DEVICES = ("cpu", "gpu", "auto")
DTYPES = {"float32": np.float32, "float64": np.float64}

_cupy = None
_cupy_checked = False


def _import_cupy():
    """CuPy if it imports, else None. Importing succeeds on machines with no GPU."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        if os.environ.get("MINIT5_TF32", "0").strip() == "1":
            # TF32 float32 matmuls (see minit5/kernels: Precision); CuPy reads this variable
            # when the first float32 matmul picks its compute type. An explicit value wins.
            os.environ.setdefault("CUPY_TF32", "1")
        try:
            import cupy
            _cupy = cupy
        except Exception:  # not installed, or a broken CUDA install
            _cupy = None
    return _cupy


def gpu_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA device."""
    cupy = _import_cupy()
    if cupy is None:
        return False
    try:
        return bool(cupy.is_available())
    except Exception:
        return False


def _why_no_gpu() -> str:
    if _import_cupy() is None:
        return ("CuPy is not installed. Install the GPU extra: `pip install -e .[gpu]` "
                "(cupy-cuda12x), on a machine with an NVIDIA GPU.")
    return ("CuPy is installed but sees no CUDA device (cupy.is_available() is False). "
            "Run on a machine with an NVIDIA GPU, or use device='cpu'.")


def resolve_device(device: str | None = None) -> str:
    """Turn 'cpu' | 'gpu' | 'auto' | None (read MINIT5_DEVICE) into 'cpu' or 'gpu'."""
    if device is None or device == "default":
        device = os.environ.get("MINIT5_DEVICE", "cpu")
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
