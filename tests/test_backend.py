"""Device choice (MINIT5_DEVICE), the array module, moving arrays, and dtypes.

The environment is read once, at import, into `backend.SWITCHES`; these tests set the switches
a process started with that environment would have (`environment(...)`).

Whether this machine has a GPU must not matter to these tests: where it would, `gpu_available`
(or the CuPy import itself) is monkeypatched, so the no-GPU paths are tested everywhere.
"""
import builtins
import dataclasses
import pathlib
import re

import numpy as np
import pytest

from minit5 import backend
from minit5.autograd import Tensor


@pytest.fixture
def environment(monkeypatch):
    """environment(MINIT5_DEVICE="gpu"): the switches of a process started with those variables."""
    def set_variables(**variables):
        monkeypatch.setattr(backend, "SWITCHES", backend.read_switches(variables))
    return set_variables


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(backend, "gpu_available", lambda: False)


@pytest.fixture
def fake_gpu(monkeypatch):
    monkeypatch.setattr(backend, "gpu_available", lambda: True)


# ---- MINIT5_DEVICE -------------------------------------------------------------------------
def test_default_device_is_cpu(environment):
    environment()
    assert backend.resolve_device() == "cpu"
    assert backend.resolve_device(None) == "cpu"


@pytest.mark.parametrize("value", ["cpu", "CPU", "Cpu"])
def test_env_cpu(environment, value):
    environment(MINIT5_DEVICE=value)
    assert backend.resolve_device() == "cpu"


@pytest.mark.parametrize("value", ["gpu", "GPU", "cuda"])
def test_env_gpu_with_a_gpu(environment, fake_gpu, value):
    environment(MINIT5_DEVICE=value)
    assert backend.resolve_device() == "gpu"


def test_auto_uses_the_gpu_when_there_is_one(environment, fake_gpu):
    environment(MINIT5_DEVICE="auto")
    assert backend.resolve_device() == "gpu"


def test_auto_falls_back_to_numpy_without_a_gpu(environment, no_gpu):
    environment(MINIT5_DEVICE="auto")
    assert backend.resolve_device() == "cpu"
    assert backend.xp_for() is np
    assert backend.xp_for("auto") is np


def test_an_explicit_argument_wins_over_the_environment(environment, no_gpu):
    environment(MINIT5_DEVICE="gpu")
    assert backend.resolve_device("cpu") == "cpu"


@pytest.mark.parametrize("value", ["tpu", "", "gpu0", "mps"])
def test_unknown_device_is_a_clear_error(environment, value):
    environment(MINIT5_DEVICE=value)
    with pytest.raises(ValueError, match=r"unknown device .*'cpu', 'gpu', 'auto'.*MINIT5_DEVICE"):
        backend.resolve_device()
    with pytest.raises(ValueError, match="unknown device"):
        backend.resolve_device(value)


def test_gpu_without_a_gpu_is_a_clear_error(environment, no_gpu):
    environment(MINIT5_DEVICE="gpu")
    with pytest.raises(RuntimeError, match=r"(?s)no GPU can be used.*CuPy"):
        backend.resolve_device()
    with pytest.raises(RuntimeError, match="GPU"):
        backend.xp_for("gpu")


def test_gpu_error_says_how_to_install_cupy_when_it_is_missing(monkeypatch, no_gpu):
    monkeypatch.setattr(backend, "_import_cupy", lambda: None)
    with pytest.raises(RuntimeError, match=r"CuPy is not installed.*pip install"):
        backend.resolve_device("gpu")


def test_gpu_error_says_cupy_sees_no_device(monkeypatch, no_gpu):
    monkeypatch.setattr(backend, "_import_cupy", lambda: object())   # CuPy present, no device
    with pytest.raises(RuntimeError, match="sees no CUDA device"):
        backend.resolve_device("gpu")


def test_gpu_available_is_false_without_cupy_or_when_cupy_fails(monkeypatch):
    monkeypatch.setattr(backend, "_cupy_error", None)     # restored afterwards
    monkeypatch.setattr(backend, "_import_cupy", lambda: None)
    assert backend.gpu_available() is False

    class BrokenCuPy:
        @staticmethod
        def is_available():
            raise RuntimeError("CUDA driver version is insufficient")

    monkeypatch.setattr(backend, "_import_cupy", lambda: BrokenCuPy)
    assert backend.gpu_available() is False


def test_switches_are_read_from_the_environment_once():
    assert backend.read_switches({}) == backend.Switches("cpu", True, False)
    switches = backend.read_switches({"MINIT5_DEVICE": "auto", "MINIT5_KERNELS": "0",
                                      "MINIT5_TF32": "1"})
    assert switches == backend.Switches("auto", False, True)


def test_configure_replaces_switches_and_returns_the_old_ones(monkeypatch):
    monkeypatch.setattr(backend, "SWITCHES", backend.Switches())
    old = backend.configure(kernels=False)
    assert old == backend.Switches() and backend.SWITCHES.kernels is False
    backend.configure(**dataclasses.asdict(old))
    assert backend.SWITCHES == backend.Switches()


def test_only_the_backend_and_the_cli_read_the_environment():
    """Switches are read once (backend.SWITCHES); no op looks at os.environ when it runs."""
    package = pathlib.Path(backend.__file__).parent
    allowed = {package / "backend.py", package / "cli.py"}
    readers = [str(path.relative_to(package)) for path in sorted(package.rglob("*.py"))
               if path not in allowed
               and re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text())]
    assert readers == [], f"these modules read the environment: {readers}"


def fake_import_of_cupy(monkeypatch, error):
    """Make `import cupy` raise `error`, and let the backend try again."""
    real_import = builtins.__import__

    def importer(name, *args, **kwargs):
        if name == "cupy":
            raise error
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", importer)
    monkeypatch.setattr(backend, "_cupy_checked", False)
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_error", None)


def test_a_missing_cupy_says_it_is_not_installed(monkeypatch):
    fake_import_of_cupy(monkeypatch, ModuleNotFoundError("No module named 'cupy'", name="cupy"))
    assert backend._import_cupy() is None and backend.gpu_available() is False
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        backend.resolve_device("gpu")


def test_a_broken_cuda_install_shows_the_real_error(monkeypatch):
    fake_import_of_cupy(monkeypatch, ImportError("libcudart.so.12: cannot open shared object"))
    assert backend._import_cupy() is None and backend.gpu_available() is False
    with pytest.raises(RuntimeError, match=r"CuPy is installed but cannot use CUDA: "
                                           r"ImportError: libcudart\.so\.12") as error:
        backend.resolve_device("gpu")
    assert "not installed" not in str(error.value)


def test_a_failing_device_check_shows_its_error(monkeypatch):
    class BrokenCuPy:
        @staticmethod
        def is_available():
            raise RuntimeError("CUDA driver version is insufficient")

    monkeypatch.setattr(backend, "_import_cupy", lambda: BrokenCuPy)
    monkeypatch.setattr(backend, "_cupy_error", None)
    with pytest.raises(RuntimeError, match="CUDA driver version is insufficient"):
        backend.resolve_device("gpu")


# ---- gpu_available: a device that really runs minit5's work ---------------------------------
class NumPyAsCuPy:
    """A stand-in CuPy with one device, running on NumPy; `fail` names a step to break like a
    driver-only machine without the CUDA libraries would."""

    float32 = np.float32

    def __init__(self, fail=None):
        self.fail = fail
        self.random = self
        self.cuda = self

    def is_available(self):
        return True

    def Device(self):                                     # cupy.cuda.Device().synchronize()
        return self

    def synchronize(self):
        pass

    def arange(self, n, dtype):
        if self.fail == "elementwise":
            raise OSError("libnvrtc.so.12: cannot open shared object file")
        return np.arange(n, dtype=dtype)

    def ones(self, shape, dtype):
        return Matmul(self.fail == "matmul", np.ones(shape, dtype))

    def default_rng(self, seed):
        return np.random.default_rng(seed)

    def empty_like(self, x):
        return np.empty_like(x)

    def RawModule(self, code, name_expressions):
        if self.fail == "kernel":
            raise RuntimeError("NVRTC_ERROR_COMPILATION")
        assert name_expressions == ["minit5_check<float>"] and "minit5_check" in code
        return self

    def get_function(self, name):
        def launch(grid, block, args):
            x, y, n = args
            y[:int(n)] = x[:int(n)] + 1
        return launch


class Matmul(np.ndarray):
    def __new__(cls, broken, array):
        out = array.view(cls)
        out.broken = broken
        return out

    def __matmul__(self, other):
        if self.broken:
            raise ImportError("libcublasLt.so.12: cannot open shared object file")
        return np.asarray(self) @ np.asarray(other)


def test_gpu_available_runs_an_op_a_kernel_a_matmul_and_a_draw(monkeypatch):
    monkeypatch.setattr(backend, "_gpu_checked", (None, None))
    monkeypatch.setattr(backend, "_cupy_error", None)
    monkeypatch.setattr(backend, "_import_cupy", lambda: NumPyAsCuPy())
    assert backend.gpu_available() is True
    assert backend.resolve_device("gpu") == "gpu"


@pytest.mark.parametrize("fail, named", [
    ("elementwise", r"an elementwise op .*libnvrtc\.so\.12.*nvidia-cuda-nvrtc-cu12"),
    ("kernel", r"a RawModule kernel .*NVRTC_ERROR_COMPILATION.*pip install -e"),
    ("matmul", r"a float32 matmul \(cuBLAS\) failed \(ImportError: libcublasLt.*"
               r"nvidia-cublas-cu12"),
])
def test_a_missing_cuda_library_is_named_with_the_install_line(monkeypatch, fail, named):
    monkeypatch.setattr(backend, "_gpu_checked", (None, None))
    monkeypatch.setattr(backend, "_cupy_error", None)
    fake = NumPyAsCuPy(fail)
    monkeypatch.setattr(backend, "_import_cupy", lambda: fake)
    assert backend.gpu_available() is False
    assert backend.xp_for("auto") is np                 # auto falls back to the CPU
    with pytest.raises(RuntimeError, match=named):
        backend.resolve_device("gpu")


# ---- array module and moving arrays ---------------------------------------------------------
def test_get_array_module_on_cpu_values():
    x = np.ones(3)
    assert backend.get_array_module(x) is np
    assert backend.get_array_module(Tensor(x)) is np
    assert backend.get_array_module(1.0, [1, 2], None) is np
    assert backend.get_array_module() is np
    assert backend.device_of(x) == "cpu" and Tensor(x).device == "cpu"


def test_to_device_cpu_and_to_numpy_round_trip():
    x = np.arange(6.0).reshape(2, 3)
    assert backend.to_device(x, "cpu") is x           # already there: no copy
    assert backend.to_numpy(x) is x
    y = backend.to_numpy([[1, 2], [3, 4]])
    assert isinstance(y, np.ndarray) and y.shape == (2, 2)


def test_to_device_gpu_without_a_gpu_is_a_clear_error(no_gpu):
    with pytest.raises(RuntimeError, match="GPU"):
        backend.to_device(np.ones(2), "gpu")


@pytest.mark.gpu
def test_gpu_round_trip_keeps_values_and_dtype():
    import cupy
    for dtype in (np.float32, np.float64, np.int64):
        x = np.arange(12).reshape(3, 4).astype(dtype)[:, ::2]     # non-contiguous too
        d = backend.to_device(x, "gpu")
        assert isinstance(d, cupy.ndarray) and d.dtype == dtype
        assert backend.get_array_module(d) is cupy
        assert backend.get_array_module(np.ones(1), Tensor(d)) is cupy   # any CuPy array wins
        assert backend.device_of(d) == "gpu" and Tensor(d).device == "gpu"
        assert backend.to_device(d, "gpu") is d                    # already there: no copy
        back = backend.to_numpy(d)
        assert isinstance(back, np.ndarray)
        np.testing.assert_array_equal(back, x)
        np.testing.assert_array_equal(backend.to_device(d, "cpu"), x)
    assert backend.xp_for("gpu") is cupy


# ---- dtypes --------------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    (None, np.float32), ("float32", np.float32), ("float64", np.float64),
    (np.float32, np.float32), (np.float64, np.float64), (np.dtype("float64"), np.float64),
])
def test_resolve_dtype(value, expected):
    assert backend.resolve_dtype(value) == np.dtype(expected)


@pytest.mark.parametrize("value", ["float16", "bfloat16", "int32", "double", "fp32"])
def test_resolve_dtype_rejects_unsupported_names(value):
    with pytest.raises(ValueError, match=rf"unsupported dtype '{value}'.*float32"):
        backend.resolve_dtype(value)


@pytest.mark.parametrize("value", [np.float16, np.int32, np.int64, bool, np.complex64])
def test_resolve_dtype_rejects_unsupported_numpy_dtypes(value):
    with pytest.raises(ValueError, match=r"unsupported dtype .*float32.*float64"):
        backend.resolve_dtype(value)


def test_the_mpiexec_switch_is_set_by_any_launcher_variable():
    assert backend.read_switches({}).mpiexec is False
    for name in backend.MPI_LAUNCHER_VARIABLES:
        assert backend.read_switches({name: "2"}).mpiexec is True
