"""ByT5's byte-level "tokenizer" (Xue et al. 2022): the UTF-8 bytes of the text, shifted by 3.

ByT5 keeps T5's three special ids (pad 0, EOS 1, unk 2) and gives byte b the id b + 3, so a
vocabulary of 3 + 256 ids covers every text in every language with nothing to train; the
released checkpoints add 125 sentinel ids above those (vocab_size 384). This is the rule of
Hugging Face's `ByT5Tokenizer` (`models/byt5/tokenization_byt5.py`): encoding appends EOS, and
decoding drops the special ids and replaces a byte sequence that is not valid UTF-8 with U+FFFD.
"""
from __future__ import annotations

import numpy as np

from minit5.data.tokenizer import EOS_ID

BYTE_OFFSET = 3             # ids 0, 1, 2 are pad, EOS and unk
NUM_BYTES = 256
BYT5_EXTRA_IDS = 125        # the released ByT5 checkpoints' sentinels
BYT5_VOCAB_SIZE = BYTE_OFFSET + NUM_BYTES + BYT5_EXTRA_IDS      # 384


def byt5_encode(text: str) -> np.ndarray:
    """The ids of `text`: its UTF-8 bytes + 3, then EOS (1). int64 array (bytes + 1,)."""
    if not isinstance(text, str):
        raise TypeError(f"byt5_encode takes a str, got {type(text).__name__}; decode bytes to "
                        f"text first (bytes.decode('utf-8'))")
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.int64)   # (bytes,)
    return np.append(data + BYTE_OFFSET, EOS_ID)


def byt5_decode(ids) -> str:
    """The text of ByT5 ids: special ids (below 3) and sentinels (above 258) are dropped, the
    rest are bytes; invalid UTF-8 becomes U+FFFD."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or not (ids.size == 0 or np.issubdtype(ids.dtype, np.integer)):
        raise ValueError(f"byt5_decode takes a 1-D array of integer ids, got shape {ids.shape} "
                         f"and dtype {ids.dtype}")
    byte_ids = ids[(ids >= BYTE_OFFSET) & (ids < BYTE_OFFSET + NUM_BYTES)] - BYTE_OFFSET
    return bytes(byte_ids.astype(np.uint8).tolist()).decode("utf-8", errors="replace")
