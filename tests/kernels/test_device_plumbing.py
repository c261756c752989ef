"""Device plumbing that can be checked without a GPU.

- The fused path, wired into the model, matches transformers: the model runs through the fused
  Functions (AttentionSoftmax, RMSNorm, CrossEntropy, GatedGelu) on every device; on NumPy
  their kernel entry points run the NumPy maths.
- CuPy arrays are recognised as such. Where CuPy is installed (it imports without a GPU), an
  array *header* is built over memory that is never touched: enough for type checks, shapes
  and views, which is all these tests use.
"""
import dataclasses

import numpy as np
import pytest

from minit5 import backend, kernels
from minit5 import functional as F
from minit5.autograd import Tensor
from tests.golden.test_model_golden import FIXTURES, check_against

FUSED = (F.AttentionSoftmax, F.RMSNorm, F.CrossEntropy, F.GatedGelu)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["v1_0", "v1_1"])
def test_fused_path_matches_transformers_on_the_cpu(monkeypatch, name, dtype):
    used = {cls.__name__: 0 for cls in FUSED}
    for cls in FUSED:
        def counting_forward(self, *args, _forward=cls.forward, **kwargs):
            used[type(self).__name__] += 1
            return _forward(self, *args, **kwargs)
        monkeypatch.setattr(cls, "forward", counting_forward)
    check_against(FIXTURES, name, dtype)
    expected = {"AttentionSoftmax", "RMSNorm", "CrossEntropy"}
    if name == "v1_1":                       # the gated-gelu model
        expected.add("GatedGelu")
    assert {k for k, n in used.items() if n} == expected, used


def fake_cupy_array(shape, dtype=np.float32):
    """A CuPy array header over a bogus device address: metadata only, never read."""
    cupy = pytest.importorskip("cupy")
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    memory = cupy.cuda.UnownedMemory(0x10000000, nbytes, None, device_id=0)
    return cupy.ndarray(shape, dtype, cupy.cuda.MemoryPointer(memory, 0))


def test_raw_cupy_arrays_are_seen_as_cupy():
    # A CuPy array's own `.data` is a MemoryPointer: get_array_module must not look inside it.
    x = fake_cupy_array((2, 3))
    import cupy
    assert backend.get_array_module(x) is cupy
    assert backend.get_array_module(np.ones(2), x) is cupy
    assert backend.device_of(x) == "gpu"
    t = Tensor(x)                            # wraps the device array as it is
    assert t.data is x and t.device == "gpu"
    assert backend.get_array_module(t) is cupy
    assert backend.get_array_module(np.ones(2), 3.0) is np


def test_use_kernels_only_for_cupy_and_not_when_switched_off(monkeypatch):
    x = fake_cupy_array((2, 3))
    assert kernels.use_kernels(x) and kernels.use_kernels(Tensor(x))
    assert not kernels.use_kernels(np.ones((2, 3)))
    monkeypatch.setattr(backend, "SWITCHES", dataclasses.replace(backend.SWITCHES, kernels=False))
    assert not kernels.use_kernels(x)


def test_attention_bias_broadcasts_by_strides_without_a_copy():
    """The stride arithmetic the attention kernel relies on: a broadcast view has stride 0 on
    each broadcast axis and points at the original memory."""
    bias = fake_cupy_array((1, 3, 1, 5))      # skips when CuPy is not installed
    import cupy
    view = cupy.broadcast_to(bias.reshape(1, 3, 1, 5), (2, 3, 4, 5))
    assert [s // view.itemsize for s in view.strides] == [0, 5, 0, 1]
    assert view.data.ptr == bias.data.ptr


def test_tf32_switch_sets_cupy_variable_before_import(monkeypatch):
    import os
    monkeypatch.setattr(backend, "_cupy_checked", False)
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "SWITCHES", dataclasses.replace(backend.SWITCHES, tf32=True))
    monkeypatch.setenv("CUPY_TF32", "unset")   # so that monkeypatch restores the original
    monkeypatch.delenv("CUPY_TF32")
    backend._import_cupy()
    assert os.environ["CUPY_TF32"] == "1"
    monkeypatch.setattr(backend, "_cupy_checked", False)
    monkeypatch.setenv("CUPY_TF32", "0")                 # an explicit value wins
    backend._import_cupy()
    assert os.environ["CUPY_TF32"] == "0"
