"""Labels for teacher forcing (paper §2.1; HF `T5ForConditionalGeneration._shift_right`).

The decoder is trained to predict `labels[t]` from `labels[:t]`, so it reads the labels shifted
one place to the right, starting from the decoder start token (0, the pad id, in T5):

    labels             [y0  y1  y2  -100]
    decoder_input_ids  [0   y0  y1  y2  ]

Positions labelled IGNORE_INDEX (-100) are left out of the loss; they are not token ids, so in
the decoder's input they become the pad id. Both the data layer (batching) and the model layer
import this module, which sits below them.
"""
from __future__ import annotations

from minit5.backend import get_array_module

IGNORE_INDEX = -100          # a label the loss skips (padding, or tokens not to be scored)
DECODER_START_TOKEN_ID = 0   # T5 starts decoding from the pad id
PAD_TOKEN_ID = 0


def shift_right(labels, decoder_start_token_id=DECODER_START_TOKEN_ID,
                pad_token_id=PAD_TOKEN_ID):
    """Decoder inputs for teacher forcing: [start, y0, ..., y_{L-2}], IGNORE_INDEX -> pad.

    labels (B, L) int array (NumPy or CuPy) -> a new (B, L) array; `labels` is not changed.
    """
    xp = get_array_module(labels)
    labels = xp.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"shift_right expects labels of shape (batch, length), got shape "
                         f"{labels.shape}; for one sequence pass labels[None, :]")
    shifted = xp.empty_like(labels)
    shifted[:, 0] = decoder_start_token_id
    shifted[:, 1:] = labels[:, :-1]
    shifted[shifted == IGNORE_INDEX] = pad_token_id
    return shifted
