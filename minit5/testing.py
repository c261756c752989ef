"""Checking gradients and comparing arrays, with messages that say what went wrong and where.

`grad_check` is the test every differentiable op in minit5 passes: the gradient that
`backward()` computes must agree with one measured by nudging each input element up and down
(central differences, in float64). `assert_close` compares an array with a reference (the golden
tests' outputs from Hugging Face) and, when they differ, reports the worst element.
"""
from __future__ import annotations

import numpy as np

from minit5 import backend
from minit5.autograd.tensor import Tensor, no_grad


def relative_error(analytic, numeric, floor):
    """|a - n| / max(|a|, |n|, floor), elementwise.

    Below `floor` the error is measured against `floor` instead, so two values that are both
    tiny (a gradient that should be 0 and came out 1e-12) are judged by their absolute
    difference. With floor = atol / rtol the test `relative_error <= rtol` reads: the values
    agree to `rtol` relatively, or to `atol` absolutely, whichever is looser.
    """
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)
    return np.abs(analytic - numeric) / scale


def grad_check(fn, *inputs, eps=1e-6, rtol=1e-6, atol=1e-8, seed=0):
    """Check the gradients of `fn` against central differences; return the max relative error.

    fn: maps Tensors to a Tensor (of any shape).
    inputs: NumPy/CuPy arrays or Tensors. Every input is checked except a Tensor with
        requires_grad=False, which is passed to `fn` as a constant. Checked inputs are used in
        float64; one that is float64 already is used as it is, memory layout included (so a
        non-contiguous input stays non-contiguous): it is nudged in place and restored exactly.

    A non-scalar output y is projected to the scalar L = sum(c * y) with a fixed random
    cotangent c (from `seed`), so every output element takes part. Then for each checked input x
        analytic:  dL/dx from `y.backward(c)`,
        numeric:   dL/dx[i] = sum(c * (y(x + h e_i) - y(x - h e_i))) / (2h),   h = eps.
    The difference of outputs is taken before the projection, so output elements that do not
    depend on x[i] cancel exactly instead of adding rounding error.

    The relative error of each element is |a - n| / max(|a|, |n|, atol / rtol) (see
    `relative_error`). Any element above rtol raises AssertionError naming the input (by
    position), the index, both values and the error.
    """
    if not inputs:
        raise TypeError("grad_check needs at least one input")
    arrays, checked = [], []
    for t in inputs:
        if isinstance(t, Tensor) and not t.requires_grad:
            arrays.append(t.data)
            checked.append(False)
            continue
        data = t.data if isinstance(t, Tensor) else t
        xp = backend.get_array_module(data)
        data = xp.asarray(data)
        if data.dtype.kind != "f":
            raise TypeError(f"grad_check: input {len(arrays)} has dtype {data.dtype}; only "
                            "floating-point inputs can be checked (pass integer inputs inside "
                            "fn, or as a Tensor with requires_grad=False)")
        arrays.append(data if data.dtype == np.float64 else data.astype(np.float64))
        checked.append(True)
    if not any(checked):
        raise TypeError("grad_check: no input to check (every input is a Tensor with "
                        "requires_grad=False)")

    # Analytic gradients, from one backward pass with the cotangent c.
    tensors = [Tensor(a, requires_grad=c) for a, c in zip(arrays, checked)]
    out = fn(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"grad_check: fn must return a Tensor, got {type(out).__name__}")
    xp = backend.get_array_module(out.data)
    cotangent = np.random.default_rng(seed).standard_normal(out.shape)
    cotangent_xp = xp.asarray(cotangent)
    out.backward(cotangent_xp)
    analytic = []
    for i, t in enumerate(tensors):
        if not checked[i]:
            analytic.append(None)
            continue
        if t.grad is None:  # fn did not use this input: its gradient is zero
            analytic.append(np.zeros(t.shape))
            continue
        if t.grad.dtype != np.float64:
            raise AssertionError(f"grad_check: input {i} is float64 but its gradient came back "
                                 f"as {t.grad.dtype}")
        analytic.append(backend.to_numpy(t.grad).astype(np.float64))

    def evaluate():
        with no_grad():
            y = fn(*[Tensor(a) for a in arrays])
        return xp.array(y.data, dtype=np.float64, copy=True)   # y may be a view of an input

    floor = atol / rtol
    worst = 0.0
    for i, x in enumerate(arrays):
        if not checked[i]:
            continue
        numeric = np.zeros(x.shape)
        for index in np.ndindex(*x.shape):
            original = float(x[index])
            x[index] = original + eps
            up, y_up = float(x[index]), evaluate()
            x[index] = original - eps
            down, y_down = float(x[index]), evaluate()
            x[index] = original
            # The step actually taken: original +- eps is rounded, and dividing by the rounded
            # difference (not 2 * eps) removes that error.
            numeric[index] = float((cotangent_xp * (y_up - y_down)).sum()) / (up - down)
        a = analytic[i]
        if not np.all(np.isfinite(numeric)):
            index = tuple(int(k) for k in np.argwhere(~np.isfinite(numeric))[0])
            raise AssertionError(f"grad_check: input {i} (shape {x.shape}): the numeric gradient "
                                 f"at index {index} is {numeric[index]}; is fn defined and "
                                 "smooth around this input?")
        if not np.all(np.isfinite(a)):
            index = tuple(int(k) for k in np.argwhere(~np.isfinite(a))[0])
            raise AssertionError(f"grad_check: input {i} (shape {x.shape}): the analytic "
                                 f"gradient at index {index} is {a[index]} (numeric "
                                 f"{numeric[index]:.10g})")
        if a.size == 0:
            continue
        errors = relative_error(a, numeric, floor)
        index = np.unravel_index(int(np.argmax(errors)), errors.shape)
        error = float(errors[index])
        if error > rtol:
            bad = int((errors > rtol).sum())
            raise AssertionError(
                f"grad_check: input {i} (shape {x.shape}) at index {tuple(int(k) for k in index)}: "
                f"analytic {a[index]:.10g} vs numeric {numeric[index]:.10g}, relative error "
                f"{error:.3g} > rtol {rtol:g} (atol {atol:g}); {bad} of {errors.size} elements "
                "out of tolerance")
        worst = max(worst, error)
    return worst


def assert_close(actual, expected, rtol=1e-5, atol=1e-6, name="value"):
    """Assert |actual - expected| <= atol + rtol * |expected| elementwise (NaNs must match).

    `actual` and `expected` may be Tensors or NumPy/CuPy arrays. On failure the message gives
    the shapes, how many elements differ, and the largest absolute and relative errors with the
    index and both values where each occurs.
    """
    a = backend.to_numpy(actual.data if isinstance(actual, Tensor) else actual)
    e = backend.to_numpy(expected.data if isinstance(expected, Tensor) else expected)
    a, e = np.asarray(a), np.asarray(e)
    if a.shape != e.shape:
        raise AssertionError(f"{name}: shape {a.shape} does not match the expected {e.shape}")
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    nan_a, nan_e = np.isnan(a64), np.isnan(e64)
    if np.any(nan_a != nan_e):
        index = tuple(int(k) for k in np.argwhere(nan_a != nan_e)[0])
        raise AssertionError(f"{name}: NaN mismatch at index {index}: got {a64[index]}, "
                             f"expected {e64[index]} ({int(nan_a.sum())} NaNs in actual, "
                             f"{int(nan_e.sum())} in expected)")
    both = ~nan_a
    with np.errstate(invalid="ignore"):   # inf - inf
        diff = np.where(both, np.abs(a64 - e64), 0.0)
        diff = np.where(both & (a64 == e64), 0.0, diff)   # equal infinities agree
        bad = diff > atol + rtol * np.abs(e64)
    if not np.any(bad):
        return
    where_abs = np.unravel_index(int(np.argmax(diff)), diff.shape)
    rel = diff / np.maximum(np.abs(e64), np.finfo(np.float64).tiny)
    rel = np.where(bad, rel, 0.0)
    where_rel = np.unravel_index(int(np.argmax(rel)), rel.shape)

    def at(index):
        return (f"at index {tuple(int(k) for k in index)} (actual {a64[index]:.8g}, "
                f"expected {e64[index]:.8g})")

    raise AssertionError(
        f"{name}: {int(bad.sum())} of {bad.size} elements differ beyond rtol={rtol:g}, "
        f"atol={atol:g} (shape {a.shape}, dtype {a.dtype} vs {e.dtype}); "
        f"max abs error {diff[where_abs]:.3g} {at(where_abs)}; "
        f"max rel error {rel[where_rel]:.3g} {at(where_rel)}")
