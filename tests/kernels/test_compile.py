"""Every CUDA kernel compiles, on a machine with no GPU: NVRTC (through ctypes, no CuPy)
compiles each kernel file's source with the options and name expressions a GPU run uses, to
PTX and to cubins for the A100 (sm_80) and H100 (sm_90). NVRTC comes from the
nvidia-cuda-nvrtc-cu12 wheel (`pip install -e ".[nvrtc]"`, which `make test` installs);
without it these tests skip and say so.
"""
import locale
import re

import pytest

from minit5 import kernels
from minit5.kernels import _cuda, _nvrtc


@pytest.fixture(scope="module")
def nvrtc():
    try:
        return _nvrtc.version()
    except OSError as error:
        pytest.skip(f"NVRTC is not installed, so the kernels cannot be compile-checked: {error}")


@pytest.mark.parametrize("arch", ["compute_80", "sm_80", "sm_90"])
@pytest.mark.parametrize("name", sorted(kernels.KERNELS))
def test_kernel_source_compiles_as_a_gpu_run_builds_it(nvrtc, name, arch):
    source = kernels.KERNELS[name].CUDA
    program = _nvrtc.compile_source(source.code, _cuda.nvrtc_options(arch),
                                    source.name_expressions())
    assert set(program.lowered) == {f"{k}<{t}>" for k in source.kernels
                                    for t in ("float", "double")}
    for expression, symbol in program.lowered.items():
        assert expression.split("<")[0] in symbol, (expression, symbol)
    if arch.startswith("compute_"):
        assert program.ptx.count(".entry") == len(source.name_expressions())
        assert sorted(re.findall(r"\.entry\s+(\w+)", program.ptx)) == sorted(
            program.lowered.values())
    else:
        assert program.cubin[:4] == b"\x7fELF"          # a cubin is an ELF image
    assert "warning" not in program.log.lower(), program.log


def test_nvrtc_compile_returns_ptx_or_a_cubin(nvrtc):
    assert ".entry" in _cuda.nvrtc_compile(kernels.gated_gelu.CUDA, "compute_80")
    assert _cuda.nvrtc_compile(kernels.gated_gelu.CUDA, "sm_90")[:4] == b"\x7fELF"


def test_compile_errors_name_the_problem(nvrtc):
    broken = _cuda.CudaSource("template <typename T> __global__ void k(T* x) { x[0] = y; }",
                              ["k"])
    with pytest.raises(RuntimeError, match='identifier "y" is undefined'):
        _cuda.nvrtc_compile(broken)


def test_the_offline_options_are_cupys():
    """What CuPy's RawModule path really hands NVRTC (captured before it compiles), less the
    include paths and the precompiled-header switch, equals `nvrtc_options`. Needs CuPy only,
    not a GPU."""
    compiler = pytest.importorskip("cupy.cuda.compiler",
                                   reason="CuPy is not installed (the gpu extra)")
    import cupy._core.core as core
    captured = {}

    class Captured(Exception):
        pass

    def intercept(source, options=(), *args, **kwargs):
        captured["options"] = tuple(options)
        raise Captured

    original = compiler._compile_module_with_cache
    compiler._compile_module_with_cache = intercept
    try:
        with pytest.raises(Captured):
            core.compile_with_cache(kernels.rms_norm.CUDA.code, (), prepend_cupy_headers=False,
                                    backend="nvrtc", translate_cucomplex=False,
                                    enable_cooperative_groups=False,
                                    name_expressions=tuple(kernels.rms_norm.CUDA
                                                           .name_expressions()),
                                    log_stream=None, jitify=False)
    finally:
        compiler._compile_module_with_cache = original
    # The rest is added further down, in cupy.cuda.compiler: -ftz=true, -arch and
    # --device-as-default-execution-space (and --pch).
    codegen = [o for o in captured["options"] if not o.startswith("-I")]
    later = ["-ftz=true", "--device-as-default-execution-space"]
    assert sorted(codegen + later) == sorted(_cuda.CUPY_NVRTC_OPTIONS)


def test_a_compile_leaves_the_threads_text_encoding_alone(nvrtc):
    """NVRTC sets the calling thread's locale to "C"; after minit5's compile, Python's default
    text encoding must still be what it was (else open() of a UTF-8 file fails afterwards)."""
    before = locale.getpreferredencoding(False)
    _nvrtc.compile_source('extern "C" __global__ void k(float* x) { x[0] = 1.0f; }',
                          ["-arch=compute_80"], [])
    assert locale.getpreferredencoding(False) == before
