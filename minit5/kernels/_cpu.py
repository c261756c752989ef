"""CPU plumbing shared by the kernels: walking an array in blocks of rows that fit in cache.

A row-wise op composed from NumPy calls (softmax: max, subtract, exp, sum, divide) makes one
pass over the whole array per call, and on a CPU each pass streams it from main memory and
back: for attention scores of (8, 4, 512, 512) float32 (32 MiB) that is 32 MiB in and out per
call, while the arithmetic per element is a few instructions. The CPU kernels make the same
calls, in the same order, on one block of rows at a time, small enough to stay in the core's L2
cache (`BLOCK_BYTES`): the array leaves memory once, passes through all the steps in cache,
and goes back once. Every element sees exactly the operations of the reference, in the same
order, and every reduction runs along whole rows as before, so the results are equal bit for
bit to the reference on C-ordered arrays (tests/kernels/test_cpu_kernels.py checks it); only
the number of trips to memory changes. (On other memory layouts the reference's own last bit
varies: NumPy sums and exponentiates a contiguous row with SIMD loops, a strided one without.
The kernels work in C order whatever the input's layout, as the model's arrays are.)
"""
from __future__ import annotations

import numpy as np

# Half of a typical 512 KiB - 1 MiB per-core L2: room for a block and the row statistics.
BLOCK_BYTES = 256 * 1024


def plain(*arrays) -> bool:
    """Whether every argument is a plain NumPy array: the CPU kernels run on those only. They
    build outputs with np.empty and np.ascontiguousarray, which drop a subclass and its
    __array_ufunc__, so a subclass (a masked or a metering array) gets the reference."""
    return all(type(a) is np.ndarray for a in arrays)


def row_blocks(rows: int, row_bytes: int):
    """slice(start, stop) over `rows` rows of `row_bytes` bytes each, at most BLOCK_BYTES a
    block (at least one row)."""
    step = max(1, BLOCK_BYTES // max(1, row_bytes))
    for start in range(0, rows, step):
        yield slice(start, min(start + step, rows))


def leading_blocks(shape, itemsize: int):
    """Index tuples that cut an array of `shape` into blocks of whole rows (the last axis), at
    most BLOCK_BYTES each where a row allows it, every block a rectangle of the leading axes:
    out[block] and a broadcast view's view[block] are then plain views of the same rows.

    Walks the leading axes from the last: a block takes as many whole sub-arrays of the inner
    axes as fit, e.g. for (B, H, Lq, Lk) whole (Lq, Lk) planes of several heads when a plane is
    small, or a few query rows of one plane when it is large.
    """
    *lead, width = shape
    if not lead:
        yield (Ellipsis,)
        return
    budget = max(1, BLOCK_BYTES // max(1, width * itemsize))        # rows a block may hold
    # The innermost leading axes that fit whole into a block; the one after them is split.
    inner, axis = 1, len(lead) - 1
    while axis > 0 and inner * lead[axis] <= budget:
        inner *= lead[axis]
        axis -= 1
    for outer in np.ndindex(*lead[:axis]):
        for part in row_blocks(lead[axis], inner * width * itemsize):
            yield outer + (part,)
