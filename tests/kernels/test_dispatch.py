"""kernels/_dispatch.Op: every entry point picks the CUDA kernel, the CPU kernel or the
reference through the one helper, from its arguments alone."""
import numpy as np
import pytest

from minit5 import backend, kernels
from minit5.kernels import _cuda, attention_softmax, cross_entropy, gated_gelu, rms_norm
from minit5.kernels._dispatch import Op

ENTRY_POINTS = [attention_softmax.forward, attention_softmax.backward, rms_norm.forward,
                rms_norm.backward, cross_entropy.forward, cross_entropy.backward,
                gated_gelu.forward, gated_gelu.backward, kernels.adafactor_update.update]


def test_every_entry_point_is_an_op_with_a_cuda_kernel():
    for op in ENTRY_POINTS:
        assert isinstance(op, Op) and op.cuda is not None, op
        assert op.__doc__, f"{op.name} has no docstring"


def test_numpy_arrays_never_take_the_kernel_path():
    x = np.ones((2, 3), dtype=np.float32)
    assert not rms_norm.forward.kernel_applies(x, x[0])
    assert rms_norm.forward.path(x, x[0]) == "cpu"
    assert gated_gelu.forward.path(x, x) == "reference"          # no CPU kernel
    assert rms_norm.forward.path(x.astype(np.float16), x[0].astype(np.float16)) == "reference"
    assert rms_norm.forward.path(x[:, :1], x[0, :1]) == "reference"   # d == 1: the reference


def test_the_kernel_path_is_taken_only_where_the_kernel_covers_the_arguments(monkeypatch):
    """With the device test forced true (as on a GPU), the op's own test decides."""
    monkeypatch.setattr(_cuda, "use_kernels", lambda array: True)
    x = np.ones((2, 3), dtype=np.float32)
    assert rms_norm.forward.path(x, x[0]) == "cuda"
    assert rms_norm.forward.path(x, x[:2]) != "cuda"                       # weight mismatched
    assert rms_norm.forward.path(x.astype(np.float16), x[0].astype(np.float16)) != "cuda"
    assert gated_gelu.forward.path(x, x[:1]) == "reference"                # broadcast b
    z, labels = np.zeros((4, 5), np.float32), np.zeros(4, np.int64)
    assert cross_entropy.forward.kernel_applies(z, labels)
    assert not cross_entropy.forward.kernel_applies(z[None], labels)
    assert attention_softmax.forward.kernel_applies(np.zeros((2, 3, 4, 5), np.float32),
                                                    np.zeros((1, 3, 4, 5), np.float32))
    assert not attention_softmax.forward.kernel_applies(np.zeros((2, 3, 4, 5), np.float32),
                                                        np.zeros((1, 3, 4, 5), np.float64))


def test_switching_the_kernels_off_sends_every_call_elsewhere(monkeypatch):
    monkeypatch.setattr(backend, "get_array_module", lambda *a: object())   # "not NumPy"
    x = np.ones((2, 3), dtype=np.float32)
    old = backend.configure(kernels=False)
    try:
        assert not _cuda.use_kernels(x) and not rms_norm.forward.kernel_applies(x, x[0])
    finally:
        backend.configure(kernels=old.kernels)
    assert _cuda.use_kernels(x)


def test_calling_an_op_runs_the_chosen_implementation():
    calls = []
    op = Op("demo.forward", reference=lambda a: calls.append("reference") or "r",
            cpu=lambda a: calls.append("cpu") or "c", cpu_applies=lambda a: a > 0)
    assert (op(1), op(-1)) == ("c", "r") and calls == ["cpu", "reference"]
    assert repr(op) == "Op(demo.forward: cpu, reference)"


def test_an_implementation_without_its_test_is_refused():
    with pytest.raises(ValueError, match="cuda_applies"):
        Op("demo.forward", reference=abs, cuda=abs)
