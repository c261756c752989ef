"""Packing for a decoder-only model (paper §3.2.1-§3.2.2, Figure 4; the t5 library's
`pack_prefix_lm_decoder_only`).

A decoder-only model has one stack, so an (inputs, targets) example becomes one sequence:
the inputs followed by the targets. The model reads it shifted right (start id 0 in front) and
predicts every next token; the loss counts only the target positions (or every position, with
`loss_on_targets_only=False`, which is plain language modeling). A prefix LM (Figure 3, right)
also lets the inputs part attend in both directions: `prefix_mask` marks the positions that
attend bidirectionally, which in the t5 library are the inputs and the first target position
(its input is the last input token), so position i is in the prefix when i <= len(inputs):

    inputs [a b c], targets [D E </s>], length 8
      target_ids   [a b c D E </s> 0 0]
      input_ids    [0 a b c D E    0 0]          (shift right inside the segment)
      labels       [-100 -100 -100 D E </s> -100 -100]
      prefix_mask  [1 1 1 1 0 0 0 0]
      segment_ids  [1 1 1 1 1 1 0 0]             (0 = padding)

Several examples are packed into one row greedily, in order (§3.1.2), each its own segment;
a row never attends across segments (`pack_decoder_only`); `pad_decoder_only` puts one example
in each row instead, padded to the longest. No per-token positions are needed: T5's only position
signal is the relative bias, and inside one contiguous segment the key - query distance of two
tokens equals their distance in the packed row.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from minit5.data.tokenizer import PAD_ID
from minit5.labels import DECODER_START_TOKEN_ID, IGNORE_INDEX


@dataclass
class DecoderOnlyBatch:
    """Model-ready arrays for a decoder-only model, int64, each (B, L)."""
    input_ids: np.ndarray      # the sequence shifted right per segment (start id 0)
    target_ids: np.ndarray     # the sequence itself, pad 0
    labels: np.ndarray         # target_ids where the loss counts, IGNORE_INDEX elsewhere
    prefix_mask: np.ndarray    # 1 where attention is bidirectional (prefix LM), else 0
    segment_ids: np.ndarray    # 1, 2, ... per packed example; 0 on padding

    def __len__(self):
        return self.input_ids.shape[0]

    def __getitem__(self, rows):
        """Rows of the batch as a new DecoderOnlyBatch (an int keeps its row axis)."""
        if isinstance(rows, (int, np.integer)):
            rows = slice(rows, rows + 1) if rows != -1 else slice(-1, None)
        return DecoderOnlyBatch(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @property
    def num_tokens(self):
        """Tokens a training step on this batch processes: the non-padding positions."""
        return int((self.segment_ids != 0).sum())

    def model_kwargs(self):
        """The keyword arguments for `model(**batch.model_kwargs())` (target_ids is not one:
        it is the labels before the loss mask)."""
        return {"input_ids": self.input_ids, "labels": self.labels,
                "prefix_mask": self.prefix_mask, "segment_ids": self.segment_ids}


def _as_pair(example, i):
    try:
        inputs, targets = example
    except (TypeError, ValueError):
        raise ValueError(f"example {i} must be a pair (inputs, targets) of 1-D id arrays") from None
    inputs = np.asarray(inputs, dtype=np.int64).reshape(-1)
    targets = np.asarray(targets, dtype=np.int64).reshape(-1)
    if len(targets) == 0:
        raise ValueError(f"example {i} has empty targets; a decoder-only example needs at "
                         f"least one target token to learn from")
    return inputs, targets


def pack_decoder_only(examples, length, loss_on_targets_only=True) -> DecoderOnlyBatch:
    """Pack (inputs, targets) examples into decoder-only rows of `length` tokens.

    An example longer than a row is cut to `length` (its targets lose their end first).
    Rows are filled greedily in order; a new row starts when the next example does not fit.
    See the module docstring for the arrays and an example.
    """
    if int(length) != length or length < 2:
        raise ValueError(f"length must be a whole number >= 2, got {length}")
    length = int(length)
    rows, row, used = [], [], 0
    for sequence, num_inputs in _sequences(examples, length, "pack_decoder_only"):
        if row and used + len(sequence) > length:
            rows.append(row)
            row, used = [], 0
        row.append((sequence, num_inputs))
        used += len(sequence)
    rows.append(row)
    return _fill_rows(rows, length, loss_on_targets_only)


def pad_decoder_only(examples, loss_on_targets_only=True) -> DecoderOnlyBatch:
    """One example per row (inputs then targets), padded to the longest row; the arrays are
    those of `pack_decoder_only` with one segment per row. Empty inputs are allowed (the `lm`
    objective without EOS): then every position is a target.

        ([5 6], [7 1]) and ([], [8 9 1])  ->  target_ids [[5 6 7 1], [8 9 1 0]]
                                              labels     [[-100 -100 7 1], [8 9 1 -100]]
    """
    sequences = list(_sequences(examples, None, "pad_decoder_only"))
    length = max(len(sequence) for sequence, _ in sequences)
    return _fill_rows([[s] for s in sequences], length, loss_on_targets_only)


def _sequences(examples, length, caller):
    """(inputs + targets cut to `length` (None: not cut), number of inputs) per example."""
    count = 0
    for i, example in enumerate(examples):
        inputs, targets = _as_pair(example, i)
        if length is not None and len(inputs) >= length:
            raise ValueError(f"example {i} has {len(inputs)} input tokens, which leaves no room "
                             f"for its targets in a row of {length}; use a longer row or "
                             f"shorter inputs")
        sequence = np.concatenate([inputs, targets])
        count += 1
        yield (sequence if length is None else sequence[:length]), len(inputs)
    if not count:
        raise ValueError(f"{caller} got no examples; pass a non-empty list of "
                         "(inputs, targets)")


def _fill_rows(rows, length, loss_on_targets_only):
    """Lay out rows of (sequence, number of inputs) as a DecoderOnlyBatch of (R, length)."""
    shape = (len(rows), length)
    target_ids = np.full(shape, PAD_ID, dtype=np.int64)        # (R, L)
    input_ids = np.full(shape, PAD_ID, dtype=np.int64)         # (R, L)
    labels = np.full(shape, IGNORE_INDEX, dtype=np.int64)      # (R, L)
    prefix_mask = np.zeros(shape, dtype=np.int64)              # (R, L)
    segment_ids = np.zeros(shape, dtype=np.int64)              # (R, L)
    for r, row in enumerate(rows):
        start = 0
        for k, (sequence, num_inputs) in enumerate(row, start=1):
            end = start + len(sequence)
            target_ids[r, start:end] = sequence
            input_ids[r, start] = DECODER_START_TOKEN_ID
            input_ids[r, start + 1:end] = sequence[:-1]
            scored = start if not loss_on_targets_only else start + num_inputs
            labels[r, scored:end] = target_ids[r, scored:end]
            prefix_mask[r, start:min(start + num_inputs + 1, end)] = 1
            segment_ids[r, start:end] = k
            start = end
    return DecoderOnlyBatch(input_ids=input_ids, target_ids=target_ids, labels=labels,
                            prefix_mask=prefix_mask, segment_ids=segment_ids)
