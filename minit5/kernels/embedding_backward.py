"""The gradient of an embedding lookup: each id's row of the output gradient, added into that
id's row of the table's gradient (ids repeat, so the scatter must add, not assign).

    reference_backward   np.add.at(grad, ids, rows): one unbuffered addition per id, in order
    cpu_backward         the same additions, one column of the table at a time

`np.add.at` with a 2-D value walks the ids one at a time through a general indexing loop; given
a 1-D column it takes NumPy's fast path. Column j receives exactly the additions it received
before, in the same order (grad[id, j] += rows[i, j] for i = 0, 1, ...), so the result is equal
bit for bit, and for T5's tables (a few thousand ids of a few hundred columns, or the relative
attention bias: 32 buckets, one id per query-key pair) it is 1-10x faster. On a GPU the
functional Embedding calls cupyx.scatter_add instead.
"""
from __future__ import annotations

import numpy as np


def reference_backward(table_shape, ids, rows):
    """d(loss)/d(table) (V, d) from integer ids (N,) and the output gradient rows (N, d)."""
    grad = np.zeros(table_shape, dtype=rows.dtype)
    np.add.at(grad, ids, rows)
    return grad


def cpu_backward(table_shape, ids, rows):
    """reference_backward, equal bit for bit, column by column."""
    grad = np.zeros(table_shape, dtype=rows.dtype)
    for j in range(table_shape[1]):
        np.add.at(grad[:, j], ids, rows[:, j])
    return grad
