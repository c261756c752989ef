"""NVRTC, NVIDIA's runtime CUDA compiler, called directly through ctypes: no CuPy, no GPU.

CuPy compiles the kernels with NVRTC when a GPU run first launches them. This module makes the
same compile on a machine with no GPU and no CuPy, so a kernel that does not compile fails the
tests in CI instead of on the first device run. It needs only the NVRTC library, which the
`nvidia-cuda-nvrtc-cu12` wheel ships (the `nvrtc` extra: pip install -e ".[nvrtc]"); a CUDA
toolkit's libnvrtc works too.

    program = compile_source(code, options, name_expressions)
    program.ptx (or .cubin for -arch=sm_XX), program.lowered (name expression -> symbol)
"""
from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import glob
import importlib.util
import os

INSTALL_HINT = ('install the NVRTC wheel: pip install -e ".[nvrtc]" (nvidia-cuda-nvrtc-cu12), '
                "or a CUDA toolkit")

_library = None


def _candidates():
    """Paths or sonames of libnvrtc, the pip wheel's first."""
    spec = importlib.util.find_spec("nvidia")
    for root in (spec.submodule_search_locations or []) if spec else []:
        yield from sorted(glob.glob(os.path.join(root, "cuda_nvrtc", "lib", "libnvrtc.so.*[0-9]")))
    yield from ("libnvrtc.so.12", "libnvrtc.so.13", "libnvrtc.so")          # the loader's path
    yield from sorted(glob.glob("/usr/local/cuda/lib64/libnvrtc.so.*[0-9]"))  # a CUDA toolkit


def library():
    """The NVRTC library (ctypes.CDLL), loaded once. OSError naming the fix when none loads."""
    global _library
    if _library is None:
        tried = []
        for candidate in _candidates():
            if "builtins" in os.path.basename(candidate) or ".alt." in candidate:
                continue
            try:
                lib = ctypes.CDLL(candidate)
            except OSError as error:
                tried.append(f"{candidate}: {error}")
                continue
            _declare(lib)
            _library = lib
            break
        else:
            raise OSError("the NVRTC library (libnvrtc.so) was not found; "
                          f"{INSTALL_HINT}. Tried: " + "; ".join(tried[-4:]))
    return _library


def _declare(lib):
    p, c = ctypes.c_void_p, ctypes.c_char_p
    size = ctypes.POINTER(ctypes.c_size_t)
    for name, args in {
        "nvrtcVersion": [ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)],
        "nvrtcCreateProgram": [ctypes.POINTER(p), c, c, ctypes.c_int, p, p],
        "nvrtcAddNameExpression": [p, c],
        "nvrtcCompileProgram": [p, ctypes.c_int, ctypes.POINTER(c)],
        "nvrtcGetProgramLogSize": [p, size], "nvrtcGetProgramLog": [p, c],
        "nvrtcGetPTXSize": [p, size], "nvrtcGetPTX": [p, c],
        "nvrtcGetCUBINSize": [p, size], "nvrtcGetCUBIN": [p, c],
        "nvrtcGetLoweredName": [p, c, ctypes.POINTER(c)],
        "nvrtcDestroyProgram": [ctypes.POINTER(p)],
    }.items():
        getattr(lib, name).argtypes = args
        getattr(lib, name).restype = ctypes.c_int
    lib.nvrtcGetErrorString.argtypes = [ctypes.c_int]
    lib.nvrtcGetErrorString.restype = c


def version() -> tuple[int, int]:
    """(major, minor) of the NVRTC library."""
    major, minor = ctypes.c_int(), ctypes.c_int()
    _check(library().nvrtcVersion(ctypes.byref(major), ctypes.byref(minor)), "nvrtcVersion")
    return major.value, minor.value


class CompileError(RuntimeError):
    """The source did not compile; the message holds NVRTC's log."""


@dataclasses.dataclass
class Program:
    ptx: str | None                      # for -arch=compute_XX
    cubin: bytes | None                  # for -arch=sm_XX
    lowered: dict                        # name expression -> mangled symbol
    log: str


def _check(result, call):
    if result != 0:
        message = library().nvrtcGetErrorString(result).decode()
        raise RuntimeError(f"{call} failed: {message}")


def _read(lib, prog, size_fn, get_fn):
    n = ctypes.c_size_t()
    _check(size_fn(prog, ctypes.byref(n)), size_fn.__name__)
    buffer = ctypes.create_string_buffer(n.value)
    _check(get_fn(prog, buffer), get_fn.__name__)
    return buffer.raw[:n.value]


@contextlib.contextmanager
def thread_locale_kept():
    """Give the calling thread its locale back when the block ends.

    NVRTC's compile sets the calling thread's locale to "C" (uselocale) and leaves it so.
    Python then takes ASCII for that thread's default text encoding: a later open() of a UTF-8
    file, or a subprocess's text output, fails with UnicodeDecodeError. Where libc has no
    uselocale (not glibc or musl) the block runs as it is."""
    try:
        uselocale = ctypes.CDLL(None).uselocale
    except (OSError, AttributeError):
        yield
        return
    uselocale.restype, uselocale.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
    saved = uselocale(None)                 # NULL: only ask for the current one
    try:
        yield
    finally:
        uselocale(saved)


def compile_source(code: str, options, name_expressions, filename="minit5_kernel.cu") -> Program:
    """Compile `code` with NVRTC `options` (which must include -arch=...), instantiating each
    name expression (e.g. 'rms_norm_forward<float>'). CompileError with the log if it fails.
    The calling thread's locale is left as it was (`thread_locale_kept`)."""
    with thread_locale_kept():
        return _compile(code, options, name_expressions, filename)


def _compile(code: str, options, name_expressions, filename) -> Program:
    lib = library()
    prog = ctypes.c_void_p()
    _check(lib.nvrtcCreateProgram(ctypes.byref(prog), code.encode(), filename.encode(), 0,
                                  None, None), "nvrtcCreateProgram")
    try:
        for name in name_expressions:
            _check(lib.nvrtcAddNameExpression(prog, name.encode()), "nvrtcAddNameExpression")
        encoded = [o.encode() for o in options]
        result = lib.nvrtcCompileProgram(prog, len(encoded),
                                         (ctypes.c_char_p * len(encoded))(*encoded))
        log = _read(lib, prog, lib.nvrtcGetProgramLogSize, lib.nvrtcGetProgramLog)
        log = log.rstrip(b"\0").decode(errors="replace")
        if result != 0:
            raise CompileError(f"NVRTC could not compile the kernel source "
                               f"({lib.nvrtcGetErrorString(result).decode()}), options "
                               f"{' '.join(options)}:\n{log}")
        lowered = {}
        for name in name_expressions:
            symbol = ctypes.c_char_p()
            _check(lib.nvrtcGetLoweredName(prog, name.encode(), ctypes.byref(symbol)),
                   "nvrtcGetLoweredName")
            lowered[name] = symbol.value.decode()
        real = any(o.startswith(("-arch=sm_", "--gpu-architecture=sm_")) for o in options)
        cubin = _read(lib, prog, lib.nvrtcGetCUBINSize, lib.nvrtcGetCUBIN) if real else None
        ptx = None if real else _read(lib, prog, lib.nvrtcGetPTXSize,
                                      lib.nvrtcGetPTX).rstrip(b"\0").decode()
        return Program(ptx=ptx, cubin=cubin, lowered=lowered, log=log)
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))
