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
from exercises.graders.implementations import reference as library
from exercises.graders.report import check, check_array, describe
from minit5 import backend
from tests.strategies import arrays, shapes

additive_mask = exercise("3.1")
log_softmax = exercise("3.2")
reference = library("3.1")

HINT = ("0 where attending is allowed and the dtype's most negative finite value elsewhere, "
        "in the requested dtype (a float64 constant or np.where's default upcasts float32)")


def mask_mistakes(keep, dtype):
    return [("-inf instead of the most negative finite value",
             lambda: np.where(keep, 0.0, -np.inf).astype(dtype)),
            ("the two values swapped (the mask read the wrong way round)",
             lambda: np.where(keep, np.finfo(dtype).min, 0.0).astype(dtype)),
            ("a large negative constant such as -1e9 or -1e4",
             lambda: np.where(keep, 0.0, -1e9).astype(dtype))]


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
    expected = reference(keep, dtype)
    check_array("additive_mask", additive_mask(keep, dtype), expected, HINT,
                inputs={"keep": keep, "dtype": dtype}, rtol=0, atol=0, check_dtype=True,
                mistakes=mask_mistakes(keep, dtype))


@pytest.mark.ex3_1
@given(masks, dtypes)
def test_additive_mask_stays_on_the_device_of_keep(keep, dtype):
    with pretend_gpu():
        expected = reference(keep.view(DeviceArray), dtype)
        got = additive_mask(keep.view(DeviceArray), dtype)
    check(isinstance(got, DeviceArray),
          f"additive_mask was given a GPU array and returned {describe(got)}, which is not on "
          "the GPU",
          "every array you create must come from the array module of keep "
          "(minit5.backend.get_array_module), not from np")
    check_array("additive_mask", got, expected, HINT, inputs={"keep": keep, "dtype": dtype},
                rtol=0, atol=0, check_dtype=True)
    if backend.gpu_available():
        cupy = backend.xp_for("gpu")
        got = additive_mask(cupy.asarray(keep), dtype)
        check(isinstance(got, cupy.ndarray),
              f"additive_mask was given a CuPy array and returned {describe(got)}",
              "every array you create must come from keep's array module")
        check_array("additive_mask", got, reference(keep, dtype), HINT,
                    inputs={"keep": keep, "dtype": dtype}, rtol=0, atol=0, check_dtype=True)


# ---- 3.2 log-softmax ------------------------------------------------------------------------

@st.composite
def log_softmax_case(draw, scale=1.0, dtype=np.float64):
    x = draw(arrays(shapes(min_dims=1), dtype=dtype)) * dtype(scale)
    shift = dtype(draw(st.sampled_from([0.0, 1000.0, -1000.0])) if scale == 1.0 else 0.0)
    return (x + shift).astype(dtype), draw(st.integers(-x.ndim, x.ndim - 1))


LOG_SOFTMAX_HINT = ("log(sum(exp(x))) overflows for large x and turns into log(0) for very "
                    "negative x; subtracting the same number from a whole slice changes "
                    "neither softmax nor log-softmax")


def log_softmax_mistakes(x, axis):
    with np.errstate(all="ignore"):
        return [("log(softmax(x)) computed literally (it overflows or takes log(0))",
                 lambda: np.log(np.exp(x) / np.exp(x).sum(axis=axis, keepdims=True))),
                ("normalising over the last axis whatever `axis` is",
                 lambda: library("3.2")(x, axis=-1))]


def check_log_softmax(x, axis, dtype, **tolerance):
    expected = library("3.2")(x, axis=axis)
    check_array("log_softmax", log_softmax.with_defaults(x, axis=axis), expected, LOG_SOFTMAX_HINT,
                inputs={"x": x, "axis": axis}, check_dtype=True,
                mistakes=log_softmax_mistakes(x, axis), **tolerance)


@pytest.mark.ex3_2
@given(log_softmax_case())
def test_log_softmax_values(case):
    x, axis = case
    check_log_softmax(x, axis, np.float64, rtol=1e-9, atol=1e-9)


@pytest.mark.ex3_2
@given(log_softmax_case(scale=400.0))
def test_log_softmax_is_stable(case):
    x, axis = case
    check_log_softmax(x, axis, np.float64, rtol=1e-9, atol=1e-6)


@pytest.mark.ex3_2
@given(log_softmax_case(dtype=np.float32))
def test_log_softmax_keeps_float32(case):
    x, axis = case
    check_log_softmax(x, axis, np.float32, rtol=1e-4, atol=1e-3)


@pytest.mark.ex3_2
@given(log_softmax_case())
def test_log_softmax_stays_on_the_device_of_x(case):
    x, axis = case
    expected = library("3.2")(x, axis=axis)
    with pretend_gpu():
        got = log_softmax(x.view(DeviceArray), axis=axis)
    check(isinstance(got, DeviceArray),
          f"log_softmax was given a GPU array and returned {describe(got)}, which is not on "
          "the GPU",
          "every array you create or compute must come from the array module of x "
          "(minit5.backend.get_array_module), not from np")
    check_array("log_softmax", got, expected, LOG_SOFTMAX_HINT, inputs={"x": x, "axis": axis},
                rtol=1e-9, atol=1e-9, check_dtype=True)
