"""`RowGradient`: the gradient of a lookup table, kept as the few rows a lookup touched.

An embedding lookup of N ids in a (V, d) table has a gradient that is zero except in the rows
of the ids it looked up. Written out densely it is a (V, d) array, for t5-small's 32128 x 512
table 66 MB, made (zeros, then the rows added in) and then added whole into the table's other
gradient, the output projection's when the two are tied (v1.0): three passes over 66 MB for a
few hundred rows. A RowGradient holds the table's shape, the distinct ids (U,) and each id's
summed rows (U, d); the backward engine adds it into a dense gradient with one indexed
addition, and makes it dense only when nothing dense is there to add it into.

Equal to the dense gradient: each id's sum is formed exactly as before (from zero, the rows in
order), and a dense g + RowGradient differs from g + dense only in rows that no id touched, by
the sign of a zero (g + 0.0 is +0.0 where g is -0.0; a RowGradient leaves -0.0 alone).
"""
from __future__ import annotations

from minit5.backend import get_array_module


class RowGradient:
    """shape (V, d); ids (U,) distinct row indices; rows (U, d) their gradients."""

    def __init__(self, shape, ids, rows):
        self.shape, self.ids, self.rows = tuple(shape), ids, rows
        self.dtype = rows.dtype

    def dense(self):
        """A new (V, d) array: zero except the rows."""
        out = get_array_module(self.rows).zeros(self.shape, dtype=self.dtype)
        out[self.ids] = self.rows
        return out

    def add_into(self, dense):
        """dense += self, in place (the ids are distinct, so an indexed += is exact)."""
        dense[self.ids] += self.rows
        return dense

    def __repr__(self):
        return f"RowGradient(shape={self.shape}, rows={len(self.ids)})"
