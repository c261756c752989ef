"""Graders for chapter 3 (NumPy/CuPy): the answer must be right and stay on keep's device.

No GPU is needed: for the device check, `minit5.backend` is handed a pretend CuPy whose arrays
are a NumPy subclass, `DeviceArray`. Code that asks `get_array_module(keep)` for its array module
gets the pretend module and makes DeviceArrays; code that calls `np.where` directly makes plain
NumPy arrays, which is what it would do with real CuPy input too. When a real GPU is there, the
same check also runs with CuPy.
"""
import contextlib
import types

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from exercises.graders.implementations import exercise
from exercises.graders.report import check, check_array, describe
from exercises.reference import EXERCISES
from minit5 import backend
from tests.strategies import shapes

additive_mask = exercise("3.1")
reference = EXERCISES["3.1"].reference

HINT = ("xp = get_array_module(keep), then xp.where(keep, dtype.type(0), np.finfo(dtype).min)"
        ".astype(dtype): 0 where kept, the dtype's most negative finite value (not -inf) "
        "where masked")


class DeviceArray(np.ndarray):
    """An array that `get_array_module` reports as living on the (pretend) GPU."""


def _to_device(value):
    if isinstance(value, np.ndarray) and not isinstance(value, DeviceArray):
        return value.view(DeviceArray)
    return value


class _PretendCupy(types.ModuleType):
    """NumPy's functions, returning DeviceArrays: CuPy as far as array placement goes."""

    ndarray = DeviceArray

    def __getattr__(self, name):
        value = getattr(np, name)
        if callable(value) and not isinstance(value, type):
            def on_device(*args, **kwargs):
                result = value(*args, **kwargs)
                if isinstance(result, tuple):
                    return tuple(_to_device(r) for r in result)
                return _to_device(result)
            return on_device
        return value

    @staticmethod
    def is_available():
        return False

    @staticmethod
    def asnumpy(array):
        return np.asarray(array).view(np.ndarray)


@contextlib.contextmanager
def pretend_gpu():
    saved = backend._cupy, backend._cupy_checked
    backend._cupy, backend._cupy_checked = _PretendCupy("cupy"), True
    try:
        yield
    finally:
        backend._cupy, backend._cupy_checked = saved


masks = shapes(max_dims=4).flatmap(lambda shape: hnp.arrays(np.bool_, shape))
dtypes = st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)])


@pytest.mark.ex3_1
@given(masks, dtypes)
def test_additive_mask_values(keep, dtype):
    check_array("additive_mask", additive_mask(keep, dtype), reference(keep, dtype), HINT,
                inputs={"keep": keep, "dtype": dtype}, rtol=0, atol=0, check_dtype=True)


@pytest.mark.ex3_1
@given(masks, dtypes)
def test_additive_mask_stays_on_the_device_of_keep(keep, dtype):
    with pretend_gpu():
        got = additive_mask(keep.view(DeviceArray), dtype)
        expected = reference(keep.view(DeviceArray), dtype)
    check(isinstance(got, DeviceArray),
          f"additive_mask was given a GPU array and returned {describe(got)}, which is not on "
          "the GPU",
          "create the result with the array module of keep, xp = get_array_module(keep) "
          "(from minit5.backend): xp.where, xp.zeros, ... never np.where or np.zeros")
    check_array("additive_mask", got, expected, HINT, inputs={"keep": keep, "dtype": dtype},
                rtol=0, atol=0, check_dtype=True)
    if backend.gpu_available():
        cupy = backend.xp_for("gpu")
        got = additive_mask(cupy.asarray(keep), dtype)
        check(isinstance(got, cupy.ndarray),
              f"additive_mask was given a CuPy array and returned {describe(got)}",
              "use xp = get_array_module(keep) for every array you create")
        check_array("additive_mask", got, reference(keep, dtype), HINT,
                    inputs={"keep": keep, "dtype": dtype}, rtol=0, atol=0, check_dtype=True)
