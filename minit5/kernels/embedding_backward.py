"""The gradient of an embedding lookup: each id's row of the output gradient, added into that
id's row of the table's gradient (ids repeat, so the scatter must add, not assign).

    reference_backward   np.add.at(grad, ids, rows): one unbuffered addition per id, in order
    cpu_row_sums         the same additions, into a table of the distinct ids only, one column
                         at a time: (distinct ids (U,), their summed rows (U, d))
    cpu_backward         cpu_row_sums written into a (V, d) array of zeros

`np.add.at` with a 2-D value walks the ids one at a time through a general indexing loop; given
a 1-D column it takes NumPy's fast path. Column j of id i receives exactly the additions it
received before, in the same order (from zero: rows[k, j] for each k with ids[k] = i, k
ascending), so the sums are equal bit for bit. The functional Embedding hands the row sums to
autograd as a `RowGradient` (minit5/autograd/row_gradient.py) instead of a (V, d) array; on a
GPU it calls cupyx.scatter_add instead.
"""
from __future__ import annotations

import numpy as np


def reference_backward(table_shape, ids, rows):
    """d(loss)/d(table) (V, d) from integer ids (N,) and the output gradient rows (N, d)."""
    grad = np.zeros(table_shape, dtype=rows.dtype)
    np.add.at(grad, ids, rows)
    return grad


def cpu_row_sums(ids, rows):
    """(distinct ids (U,), summed rows (U, d)): reference_backward's nonzero rows, equal bit
    for bit, column by column."""
    distinct, position = np.unique(ids, return_inverse=True)                 # (U,), (N,)
    sums = np.zeros((len(distinct), rows.shape[1]), dtype=rows.dtype)        # (U, d)
    for j in range(rows.shape[1]):
        np.add.at(sums[:, j], position.reshape(-1), rows[:, j])
    return distinct, sums


def cpu_backward(table_shape, ids, rows):
    """reference_backward, equal bit for bit."""
    grad = np.zeros(table_shape, dtype=rows.dtype)
    distinct, sums = cpu_row_sums(ids, rows)
    grad[distinct] = sums
    return grad
