"""`KVCache`: the decoder's keys and values kept between decoding steps.

Decoding writes one token per step. Without a cache, step t runs the decoder over all t tokens
so far; with one, it feeds only the newest token and reads the rest from here:

    self-attention   block i's keys and values of every position decoded so far,
                     (N, H, t, d_kv) each; a step appends its own position's.
    cross-attention  block i's keys and values of the encoder output, (N, H, L, d_kv) each,
                     projected on the first step and only read afterwards.

N is the number of decoder rows: B examples times num_beams beams, row b * k + j being beam j
of example b. When beam search re-ranks its beams, new row i continues old row rows[i], which
is always a beam of the same example: `reorder(rows)` moves the self-attention entries with
their beams. The cross-attention entries stay as they are: every beam of an example reads the
same encoder output, so its rows are equal within an example and a beam moved inside it would
read the same numbers. (Moving them as well gives equal arrays; it only costs a copy.)

The cache holds plain arrays (NumPy or CuPy), no autograd history: decoding runs under
`no_grad`, and a cached key is a constant to every later step.
"""
from __future__ import annotations

from minit5.autograd import ops
from minit5.autograd.tensor import Tensor
from minit5.backend import get_array_module


class KVCache:
    """KVCache(num_blocks): an empty cache for a decoder of `num_blocks` blocks.

    self_keys[i], self_values[i]: block i's self-attention keys and values, (N, H, t, d_kv),
    or None before the first step. cross_keys[i], cross_values[i]: block i's cross-attention
    keys and values, (N, H, L, d_kv), or None before the first step.
    """

    def __init__(self, num_blocks: int):
        if isinstance(num_blocks, bool) or not isinstance(num_blocks, int) or num_blocks < 1:
            raise ValueError(f"KVCache needs the number of decoder blocks (an int >= 1), got "
                             f"{num_blocks!r}; KVCache(len(model.decoder.block))")
        self.self_keys = [None] * num_blocks
        self.self_values = [None] * num_blocks
        self.cross_keys = [None] * num_blocks
        self.cross_values = [None] * num_blocks

    @property
    def num_blocks(self) -> int:
        return len(self.self_keys)

    @property
    def length(self) -> int:
        """How many positions the self-attention entries hold (0 before the first step)."""
        keys = self.self_keys[0]
        return 0 if keys is None else keys.shape[2]                     # (N, H, t, d_kv)

    def append(self, block: int, keys: Tensor, values: Tensor):
        """Add the new positions' self-attention keys and values (N, H, Lq, d_kv) of `block`
        after the cached ones; return every position's, (N, H, t + Lq, d_kv) Tensors."""
        if self.self_keys[block] is not None:
            keys = ops.concatenate([Tensor(self.self_keys[block]), keys], axis=2)
            values = ops.concatenate([Tensor(self.self_values[block]), values], axis=2)
        self.self_keys[block], self.self_values[block] = keys.data, values.data
        return keys, values

    def cross(self, block: int):
        """`block`'s cross-attention keys and values as Tensors, or None if not yet kept."""
        if self.cross_keys[block] is None:
            return None
        return Tensor(self.cross_keys[block]), Tensor(self.cross_values[block])

    def keep_cross(self, block: int, keys: Tensor, values: Tensor):
        """Keep `block`'s cross-attention keys and values (N, H, L, d_kv) for later steps."""
        self.cross_keys[block], self.cross_values[block] = keys.data, values.data

    def reorder(self, rows) -> "KVCache":
        """A new cache whose row i is this cache's row rows[i] (rows: ints (N,), each a beam of
        the same example as i). Self-attention entries are gathered; cross-attention entries
        are shared as they are (equal for every beam of an example). This cache is unchanged.
        """
        out = KVCache(self.num_blocks)
        for block in range(self.num_blocks):
            for kept, moved in ((self.self_keys, out.self_keys),
                                (self.self_values, out.self_values)):
                array = kept[block]
                if array is not None:
                    xp = get_array_module(array)
                    moved[block] = array[xp.asarray(rows)]              # (N, H, t, d_kv)
            out.cross_keys[block] = self.cross_keys[block]
            out.cross_values[block] = self.cross_values[block]
        return out

    def __repr__(self):
        return f"KVCache(num_blocks={self.num_blocks}, length={self.length})"
