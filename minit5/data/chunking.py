"""Documents -> training pieces, as the t5 library's pre-training pipelines cut them.

Every unsupervised task of the t5 library starts the same way (`t5/data/preprocessors.py`):
`select_random_chunk` takes one random chunk (at most 65,536 tokens) of each tokenized
document, so a long document does not always contribute its beginning; the chunks are
concatenated (`reduce_concat_tokens`) and cut into pieces of the length the objective needs
(`split_tokens`). `full_lm` is that pipeline for the language-modeling objective, with EOS
only at document boundaries.

All randomness comes from the `numpy.random.Generator` passed in.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from minit5.data.tokenizer import EOS_ID

MAX_CHUNK_LENGTH = 65_536    # the t5 library's max_length for select_random_chunk


def _check_rng(rng, name):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name} needs rng=numpy.random.Generator (e.g. np.random.default_rng(0)); "
                        f"got {type(rng).__name__}")


def _check_positive(name, value):
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value}")


def select_random_chunk(tokens, rng, max_length=MAX_CHUNK_LENGTH, uniform_random_start=False,
                        min_length=None):
    """One random chunk of at most `max_length` tokens (the t5 library's
    `single_example_select_random_chunk`); a sequence no longer than that comes back whole.

    Default: the document is seen as ceil(n / length) back-to-back chunks and one of them is
    picked uniformly, so the last may be shorter. `uniform_random_start=True`: the start is
    uniform in [-length + 1, n) and the chunk is clipped to the document, so every token is
    equally likely to be included. `min_length`: the length itself is drawn uniformly from
    [min_length, max_length) first (the upper end excluded, as the t5 code's integer draw is).

    t5 drops empty documents before this step; here an empty `tokens` is a ValueError.

    Example: tokens [0..9], max_length 4 -> one of [0 1 2 3], [4 5 6 7], [8 9].
    """
    _check_rng(rng, "select_random_chunk")
    tokens = np.asarray(tokens)
    if tokens.ndim < 1 or len(tokens) == 0:
        raise ValueError("select_random_chunk got an empty sequence; drop empty documents "
                         "first (the t5 library filters them out)")
    _check_positive("max_length", max_length)
    n = len(tokens)
    length = int(max_length)
    if min_length is not None:
        _check_positive("min_length", min_length)
        if min_length >= max_length:
            raise ValueError(f"min_length ({min_length}) must be below max_length "
                             f"({max_length}); the length is drawn from [min_length, max_length)")
        length = int(rng.integers(min_length, max_length))
    if uniform_random_start:
        start = int(rng.integers(-length + 1, n))
        end = min(start + length, n)
        start = max(start, 0)
    else:
        num_chunks = -(-n // length)                     # ceil(n / length)
        start = length * int(rng.integers(num_chunks))
        end = min(start + length, n)
    return tokens[start:end]


def split_tokens(tokens, max_tokens_per_segment) -> list[np.ndarray]:
    """Cut a sequence into consecutive pieces of `max_tokens_per_segment` (the last may be
    shorter), the t5 library's `split_tokens` with a fixed length.

    Example: [0..6], 3 -> [0 1 2], [3 4 5], [6].
    """
    _check_positive("max_tokens_per_segment", max_tokens_per_segment)
    tokens = np.asarray(tokens)
    step = int(max_tokens_per_segment)
    return [tokens[start:start + step] for start in range(0, len(tokens), step)]


def full_lm(documents: Iterable, length: int, rng: np.random.Generator,
            eos_id: int = EOS_ID) -> Iterator[np.ndarray]:
    """The t5 library's `full_lm`: a random chunk of each document (`select_random_chunk`),
    EOS appended, all concatenated, cut into pieces of `length` tokens. Yields the pieces
    (targets for a language model; the last piece may be shorter). Empty documents are skipped.

    Example (length 4, short documents so each chunk is the whole document):
      [5 6 7], [8 9] -> [5 6 7 </s>], [8 9 </s>].
    """
    _check_rng(rng, "full_lm")
    _check_positive("length", length)
    buffer = np.zeros(0, dtype=np.int64)
    for document in documents:
        document = np.asarray(document, dtype=np.int64)
        if len(document) == 0:
            continue
        chunk = select_random_chunk(document, rng)
        buffer = np.concatenate([buffer, chunk, [eos_id]])
        while len(buffer) >= length:
            yield buffer[:length]
            buffer = buffer[length:]
    if len(buffer):
        yield buffer
