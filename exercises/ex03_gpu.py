"""Chapter 3 exercises: code that runs on NumPy and CuPy alike.

Not in the paper: it is how minit5 runs one code path on a CPU or a GPU. Every op picks its
array module from its input, `xp = get_array_module(x)`, and calls `xp.where`, `xp.exp`, ...
instead of `np.where`, `np.exp`. The grader checks this on a CPU too, by handing your function
an array that `get_array_module` says lives on a (pretend) device. Grade with
`make grade EX=3.1` or `minit5 grade 3`.
"""
import numpy as np

from minit5.backend import get_array_module


def additive_mask(keep, dtype):
    """Exercise 3.1: turn a boolean attention mask into an additive one, on keep's device.

    T5 masks attention by adding to the scores: 0 where a key may be attended to, and the most
    negative finite number of the dtype, `np.finfo(dtype).min`, where it may not (not -inf: a row
    with every key masked then stays finite instead of turning into nan in the softmax).

    The result must be an array of the same array module as `keep` (NumPy in, NumPy out; CuPy
    in, CuPy out), so create it with `xp = get_array_module(keep)`, never with `np.` directly.
    (`np.finfo` and `dtype.type(...)` only describe the dtype, so they are fine.)

    Args:
        keep: boolean array of any shape, True where attending is allowed.
        dtype: a `numpy.dtype`, float32 or float64.

    Returns:
        An array shaped like `keep`, of `dtype`: 0 where keep, np.finfo(dtype).min elsewhere.
    """
    # TODO: Exercise 3.1
    raise NotImplementedError("Exercise 3.1")


def log_softmax(x, axis=-1):
    """Exercise 3.2: log-softmax along `axis`, stable, on x's device.

    log_softmax(x)_i = x_i - log(sum_j exp(x_j)) along `axis`. Written literally it overflows:
    exp(800) is inf in float64 (and exp(89) in float32). The chapter's `row_rms` shows the
    pattern for the device; here the result must also stay finite for any finite input,
    including rows whose entries are all huge or all very negative, and keep x's dtype.

    The result must be an array of x's array module (NumPy in, NumPy out; CuPy in, CuPy out):
    take `xp = get_array_module(x)` and call `xp.exp`, `xp.log`, `xp.max`, ... never `np.`.

    Graded: values (against minit5.functional.log_softmax) for ordinary and huge inputs,
    float32 and float64, every axis; that the result stays on x's (pretend) device.

    Args:
        x: float array of any shape (at least 1-D).
        axis: the axis to normalise over (negative counts from the end).

    Returns:
        An array shaped like `x`, of x's dtype and array module.
    """
    # TODO: Exercise 3.2
    raise NotImplementedError("Exercise 3.2")
