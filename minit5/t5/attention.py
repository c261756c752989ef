"""T5 attention (paper §2.1): multi-head, no biases, NO 1/sqrt(d_kv) scaling, relative bias.

    scores = q k^T + position_bias          # (B, H, Lq, Lk); position_bias already holds the mask
    out    = o(merge_heads(dropout(softmax(scores)) v))

The scaling is not lost: it is folded into q's initialisation (std (d_model*d_kv)^-1/2).
Only block 0 of each stack owns `relative_attention_bias`; the bias it computes (plus the
additive mask) is handed to every later block of the stack. Cross-attention has no relative
bias: its "position bias" is zeros plus the encoder mask.

Masks. Which keys a query may see is a boolean `keep` array that broadcasts to
(B, 1, Lq, Lk), True = attend, built from named pieces the stack combines with `&`:

    padding_mask(attention_mask, Lk)     (B|1, 1, 1, Lk)   padded keys are not seen
    causal_mask(Lq, Lk)                  (1, 1, Lq, Lk)    nothing after the query (decoder)
    segment_mask(query_seg, key_seg)     (B, 1, Lq, Lk)    packed rows: only the own example
    prefix_lm_mask(prefix_mask)          (B, 1, L, L)      causal, but the prefix fully visible

`additive_mask(keep, dtype)` turns the result into the 0 / finfo.min array added to the scores.
The three patterns of the paper's Figure 3 are: fully visible (the encoder: padding only),
causal (the decoder, the language model) and causal with prefix (the prefix LM, §3.2.1).
"""
from __future__ import annotations

import numpy as np

from minit5 import functional as F
from minit5.backend import get_array_module
from minit5.nn import Dropout, Embedding, Linear, Module
from minit5.t5.position import position_buckets


class T5Attention(Module):
    def __init__(self, config, has_relative_attention_bias=False, is_decoder=False, *,
                 rng, dtype=np.float32):
        super().__init__()
        d, inner, f = config.d_model, config.inner_dim, config.initializer_factor
        self.is_decoder = is_decoder
        self.has_relative_attention_bias = has_relative_attention_bias
        self.n_heads, self.d_kv = config.num_heads, config.d_kv
        self.num_buckets = config.relative_attention_num_buckets
        self.max_distance = config.relative_attention_max_distance
        self.q = Linear(d, inner, rng, std=f * (d * config.d_kv) ** -0.5, dtype=dtype)
        self.k = Linear(d, inner, rng, std=f * d ** -0.5, dtype=dtype)
        self.v = Linear(d, inner, rng, std=f * d ** -0.5, dtype=dtype)
        self.o = Linear(inner, d, rng, std=f * inner ** -0.5, dtype=dtype)
        if has_relative_attention_bias:
            self.relative_attention_bias = Embedding(self.num_buckets, self.n_heads, rng,
                                                     std=f * d ** -0.5, dtype=dtype)
        self.dropout = Dropout(config.dropout_rate)

    def compute_bias(self, query_length, key_length, query_offset=0, bidirectional=None):
        """The learned bias of every (query, key) pair, (1, H, Lq, Lk).

        query_offset: the position of the first query (the number of cached past tokens when
        decoding one token at a time). Packed rows need nothing else: inside a segment
        `key_pos - query_pos` is the row's `j - i`, and the mask removes the other pairs.
        bidirectional: which buckets (see minit5.t5.position); None = this layer's own kind
        (encoder: both ways, decoder: causal). The stacks always say it, because a table may be
        shared between an encoder and a decoder (§3.2.2's shared encoder-decoder).
        """
        if bidirectional is None:
            bidirectional = not self.is_decoder
        xp = get_array_module(self.relative_attention_bias.weight.data)
        bucket = position_buckets(query_length, key_length, query_offset, bidirectional,
                                  self.num_buckets, self.max_distance, xp)  # (Lq, Lk), cached
        values = F.embedding(self.relative_attention_bias.weight, bucket,
                             validated=True)                         # buckets are in range
        return values.transpose(2, 0, 1).reshape(1, self.n_heads, query_length,
                                                 key_length)                # (1, H, Lq, Lk)

    def _split_heads(self, x):
        b, length, _ = x.shape
        return x.reshape(b, length, self.n_heads, self.d_kv).transpose(0, 2, 1, 3)  # (B,H,L,dk)

    def forward(self, hidden_states, position_bias, key_value_states=None, cache=None,
                block=None):
        """hidden_states (B, Lq, d); position_bias (1|B, H, Lq, Lk) with the mask folded in.

        key_value_states: the encoder output for cross-attention. cache: a
        `minit5.t5.kv_cache.KVCache` during generation, and `block` this layer's block index in
        it. Self-attention appends its new keys/values there and attends to every cached
        position; cross-attention projects the encoder's keys/values on the first step, keeps
        them, and reads them back afterwards.
        """
        b, lq, _ = hidden_states.shape
        q = self._split_heads(self.q(hidden_states))                          # (B, H, Lq, dk)
        if key_value_states is None:                                          # self-attention
            k = self._split_heads(self.k(hidden_states))                      # (B, H, Lq, dk)
            v = self._split_heads(self.v(hidden_states))
            if cache is not None:
                k, v = cache.append(block, k, v)                              # (B, H, Lk, dk)
        elif cache is not None and cache.cross(block) is not None:            # cross, cached
            k, v = cache.cross(block)                                         # (B, H, Lk, dk)
        else:                                                                 # cross-attention
            k = self._split_heads(self.k(key_value_states))                   # (B, H, Lk, dk)
            v = self._split_heads(self.v(key_value_states))
            if cache is not None:
                cache.keep_cross(block, k, v)

        weights = self.dropout(attention_weights(q, k, position_bias))        # (B, H, Lq, Lk)
        context = weights @ v                                                 # (B, H, Lq, dk)
        context = context.transpose(0, 2, 1, 3).reshape(b, lq, self.n_heads * self.d_kv)
        return self.o(context)                                                # (B, Lq, d)


def attention_weights(q, k, position_bias):
    """softmax(q k^T + position_bias) over the keys, with no 1/sqrt(d_kv) scaling.

    q (B, H, Lq, dk), k (B, H, Lk, dk), position_bias (1|B, H, Lq, Lk) with the additive mask
    already in it -> weights (B, H, Lq, Lk), each row summing to 1.
    """
    scores = q @ k.swapaxes(-1, -2)                                           # (B, H, Lq, Lk)
    return F.attention_softmax(scores, position_bias)


# ---- masks: which keys each query may see ------------------------------------------------------
def padding_mask(attention_mask, key_length, xp):
    """attention_mask (B, Lk) with 1 on real tokens (or None: all real) -> keep (B|1, 1, 1, Lk)."""
    if attention_mask is None:
        return xp.ones((1, 1, 1, key_length), dtype=bool)
    return (attention_mask != 0)[:, None, None, :]


def causal_mask(query_length, key_length, xp):
    """Each query sees the keys up to its own position -> keep (1, 1, Lq, Lk).

    The queries are the last Lq of the Lk positions: with a cache of Lk - Lq past tokens the
    new queries come after them, and without one Lq == Lk and this is the lower triangle.
    """
    query_pos = xp.arange(query_length)[:, None] + (key_length - query_length)   # (Lq, 1)
    return (xp.arange(key_length)[None, :] <= query_pos)[None, None]              # (1,1,Lq,Lk)


def segment_mask(query_segment_ids, key_segment_ids):
    """Packed rows: a query sees only keys of its own segment, never padding (segment 0).

    query_segment_ids (B, Lq), key_segment_ids (B, Lk) -> keep (B, 1, Lq, Lk).
    """
    same = query_segment_ids[:, None, :, None] == key_segment_ids[:, None, None, :]
    return same & (key_segment_ids != 0)[:, None, None, :]


def prefix_lm_mask(prefix_mask):
    """Causal with prefix (paper §3.2.1, Figure 3 right): each query sees the keys up to its own
    position, and every query also sees every key inside the prefix.

    prefix_mask (B, L), 1 on prefix positions -> keep (B, 1, L, L). With prefix [1 1 1 0 0]
    (x = attend; rows are queries, columns keys):

        x x x . .        the three prefix positions see each other both ways,
        x x x . .        the targets see the prefix and the targets before them,
        x x x . .        and no query ever sees a target after its own position
        x x x x .
        x x x x x

    A row whose prefix_mask is all 0 gets the plain causal mask (a language model). Packed rows
    combine this with `segment_mask`, which removes the other examples' prefixes.
    """
    xp = get_array_module(prefix_mask)
    length = prefix_mask.shape[1]
    causal = causal_mask(length, length, xp)                                      # (1, 1, L, L)
    return causal | (prefix_mask != 0)[:, None, None, :]                          # (B, 1, L, L)


def additive_mask(keep, dtype):
    """Boolean `keep` (True = attend) -> 0 where kept, the dtype's most negative value where not.

    Adding finfo.min (not -inf) keeps a fully masked row finite, as the reference does.
    `dtype` is a NumPy dtype or scalar type (np.float32, np.dtype("float64")).
    """
    xp = get_array_module(keep)
    dtype = np.dtype(dtype)
    return xp.where(keep, dtype.type(0), np.finfo(dtype).min).astype(dtype)
