"""No repeated n-grams: transformers' `no_repeat_ngram_size` constraint on the next token.

Exercise 14.4's reference solution. minit5's own decoding (`minit5.t5.generation`) does not
apply it: the paper decodes greedily or with plain beam search.
"""
from __future__ import annotations

import numpy as np

from minit5.backend import get_array_module
from minit5.t5.generation import _check_int  # generate()'s own argument check


def ban_repeated_ngrams(logits, sequences, ngram_size):
    """No output repeats an n-gram: the rule of transformers' `no_repeat_ngram_size`.

    logits (N, V) of the next token, sequences int (N, t) the tokens so far (decoder start token
    included, as transformers counts them). For each row, every token that would complete an
    n-gram already in that row (its last n - 1 tokens followed by the token) gets -inf. Nothing
    is banned while t + 1 < ngram_size. Returns a new array; the inputs are left as they were.
    """
    ngram_size = _check_int("ngram_size", ngram_size, low=1)
    sequences = np.asarray(sequences)
    if sequences.ndim != 2 or np.shape(logits)[:1] != sequences.shape[:1]:
        raise ValueError(f"sequences must be (N, t) with one row per row of logits (N, V); got "
                         f"sequences {sequences.shape} and logits {np.shape(logits)}")
    xp = get_array_module(logits)
    out = logits.copy()
    t = sequences.shape[1]
    if t + 1 < ngram_size:
        return out
    for row, tokens in enumerate(sequences.tolist()):
        prefix = tuple(tokens[t - ngram_size + 1:])                # the last n - 1 tokens
        banned = {tokens[i + ngram_size - 1] for i in range(t - ngram_size + 1)
                  if tuple(tokens[i:i + ngram_size - 1]) == prefix}
        if banned:
            out[row, xp.asarray(sorted(banned))] = -xp.inf
    return out

