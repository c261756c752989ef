"""Chapter 3 exercise: code that runs on NumPy and CuPy alike.

Not in the paper: it is how minit5 runs one code path on a CPU or a GPU. Every op picks its
array module from its input, `xp = get_array_module(x)`, and calls `xp.where`, `xp.exp`, ...
instead of `np.where`, `np.exp`. The grader checks this on a CPU too, by handing your function
an array that `get_array_module` says lives on a (pretend) device. Grade with
`make grade EX=3.1`.
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
