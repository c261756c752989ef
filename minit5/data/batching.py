"""Batches: padding (one example per row) and packing (several examples per row).

Padding (`collate`). Each (inputs, targets) example gets its own row. Inputs are padded with
0 and `attention_mask` marks the real tokens; `labels` are the targets padded with -100 (the
loss's ignore index); `decoder_input_ids` are the labels shifted right with the decoder start
id 0 in front (teacher forcing, paper §2.1) and 0 at padding.

Packing (`pack`, paper §3.1.2: "we pack multiple sequences into each entry of the batch").
Pre-training examples are short next to a 512-token row, so T5 concatenates several examples
into one row of fixed length, for both the encoder and the decoder. Example k of a row is
segment k (1, 2, 3, ...; 0 is padding):

    inputs:  a a a | b b | pad        encoder_segment_ids [1 1 1 2 2 0]
    targets: A A | B B B | pad        decoder_segment_ids [1 1 2 2 2 0]
    labels            [A0 A1 B0 B1 B2 -100]
    decoder_input_ids [0  A0 0  B0 B1 0]     (shift right *within* each segment)

The model contract. A `Batch` goes to the model as `model(**batch.model_kwargs())`; packed
batches add two keyword arguments, int64 of shape (B, L_enc) and (B, L_dec):
`encoder_segment_ids` and `decoder_segment_ids`. With them the model
  - lets encoder token i attend to encoder token j only if their segment ids are equal;
  - lets decoder token i attend to decoder token j only if j <= i and the segments are equal;
  - lets decoder token i attend (cross-attention) to encoder token j only if
    `decoder_segment_ids[i] == encoder_segment_ids[j]`.
That is all packing needs: segments are contiguous, so for two tokens of one segment the
relative position `j - i` in the packed row is the one they have in the example alone, and the
mask removes every pair from different segments. The plain relative bias of the row is
already right. Segment 0 is padding: its labels are -100, so it never reaches the loss.
Without the two arguments the model treats each row as one example (an unpacked batch).
"""
from dataclasses import dataclass, fields

import numpy as np

from minit5.data.tokenizer import PAD_ID
from minit5.labels import DECODER_START_TOKEN_ID, IGNORE_INDEX, shift_right


@dataclass
class Batch:
    """Model-ready arrays, int64. B rows; L_enc encoder and L_dec decoder positions."""
    input_ids: np.ndarray                           # (B, L_enc)
    attention_mask: np.ndarray                      # (B, L_enc), 1 on real tokens
    labels: np.ndarray                              # (B, L_dec), -100 on padding
    decoder_input_ids: np.ndarray                   # (B, L_dec), shift_right(labels)
    encoder_segment_ids: np.ndarray | None = None   # (B, L_enc), packed only: 1, 2, ..., 0 = pad
    decoder_segment_ids: np.ndarray | None = None   # (B, L_dec), packed only

    def __len__(self):
        return self.input_ids.shape[0]

    def __getitem__(self, rows):
        """Rows of the batch, e.g. `batch[0:8]`, as a new Batch (an int keeps its row axis)."""
        if isinstance(rows, (int, np.integer)):
            rows = slice(rows, rows + 1) if rows != -1 else slice(-1, None)
        def pick(array):
            return None if array is None else array[rows]
        return Batch(**{f.name: pick(getattr(self, f.name)) for f in fields(self)})

    @property
    def num_tokens(self) -> int:
        """Tokens the step processes: real encoder tokens plus scored decoder tokens."""
        return int((self.attention_mask != 0).sum() + (self.labels != IGNORE_INDEX).sum())

    @property
    def is_packed(self):
        return self.encoder_segment_ids is not None

    def model_kwargs(self):
        """The keyword arguments for `model(**batch.model_kwargs())` (unset fields left out)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}


def _as_example(example, i):
    try:
        inputs, targets = example
    except (TypeError, ValueError):
        raise ValueError(f"example {i} must be an (inputs, targets) pair of 1-D int arrays, "
                         f"got {type(example).__name__}") from None
    out = []
    for name, seq in (("inputs", inputs), ("targets", targets)):
        seq = np.asarray(seq)
        if seq.ndim != 1 or not (np.issubdtype(seq.dtype, np.integer) or seq.size == 0):
            raise ValueError(f"example {i} {name}: expected a 1-D integer array, got shape "
                             f"{seq.shape} dtype {seq.dtype}")
        out.append(seq.astype(np.int64))
    return out


def _check_length(name, value):
    if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
        raise ValueError(f"{name} must be a positive int (or None to pad to the longest), "
                         f"got {value!r}")


def pad_sequences(sequences, length=None, pad_value=PAD_ID):
    """Stack 1-D sequences into (B, L), padding with `pad_value`; L = `length` or the longest.
    Sequences longer than `length` are cut (the t5 library's trim_and_pad does the same).

    Returns (padded (B, L) int64, mask (B, L) int64 with 1 on the kept tokens).
    """
    _check_length("length", length)
    width = length if length is not None else max((len(s) for s in sequences), default=0)
    padded = np.full((len(sequences), width), pad_value, dtype=np.int64)    # (B, L)
    mask = np.zeros((len(sequences), width), dtype=np.int64)                # (B, L)
    for b, seq in enumerate(sequences):
        n = min(len(seq), width)
        padded[b, :n] = seq[:n]
        mask[b, :n] = 1
    return padded, mask


def collate(examples, inputs_length=None, targets_length=None):
    """One example per row. A length of None pads to the longest in the batch; an int pads
    (and, as T5 does, trims) to that fixed length.

    Args:
        examples: list of (inputs, targets) pairs, 1-D int arrays (e.g. from `span_corruption`).
    Returns:
        Batch with input_ids, attention_mask (B, L_enc) and labels, decoder_input_ids (B, L_dec).
    """
    _check_length("inputs_length", inputs_length)
    _check_length("targets_length", targets_length)
    pairs = [_as_example(ex, i) for i, ex in enumerate(examples)]
    if not pairs:
        raise ValueError("collate got no examples; pass a non-empty list of (inputs, targets)")
    input_ids, attention_mask = pad_sequences([p[0] for p in pairs], inputs_length)
    labels, _ = pad_sequences([p[1] for p in pairs], targets_length, pad_value=IGNORE_INDEX)
    return Batch(input_ids=input_ids, attention_mask=attention_mask, labels=labels,
                 decoder_input_ids=shift_right(labels))


def _greedy_rows(pairs, inputs_length, targets_length):
    """Group examples, in order, into rows: start a new row when the next example does not fit
    in the encoder or the decoder side of the current one."""
    rows, row, used_in, used_tg = [], [], 0, 0
    for inputs, targets in pairs:
        overflows = (used_in + len(inputs) > inputs_length
                     or used_tg + len(targets) > targets_length)
        if row and overflows:
            rows.append(row)
            row, used_in, used_tg = [], 0, 0
        row.append((inputs, targets))
        used_in += len(inputs)
        used_tg += len(targets)
    if row:
        rows.append(row)
    return rows


def _fill_side(rows, side, length, pad_value):
    """Lay one side (0 inputs, 1 targets) of each row out in (R, length) arrays."""
    tokens = np.full((len(rows), length), pad_value, dtype=np.int64)   # (R, L)
    segment_ids = np.zeros((len(rows), length), dtype=np.int64)        # (R, L)
    shifted = np.full((len(rows), length), PAD_ID, dtype=np.int64)     # (R, L), decoder inputs
    for r, row in enumerate(rows):
        start = 0
        for k, example in enumerate(row, start=1):
            seq = example[side]
            end = start + len(seq)
            tokens[r, start:end] = seq
            segment_ids[r, start:end] = k
            shifted[r, start] = DECODER_START_TOKEN_ID    # each segment starts afresh
            shifted[r, start + 1:end] = seq[:-1]
            start = end
    return tokens, segment_ids, shifted


def pack(examples, inputs_length, targets_length):
    """Pack (inputs, targets) examples greedily, in order, into rows of fixed lengths (§3.1.2).

    An example longer than a row is trimmed to it first (the t5 library's trim_and_pack).
    Returns a Batch of R rows (R depends on the examples; take `batch[i:j]` for mini-batches)
    with the segment ids described in the module docstring.

    Example: inputs_length 6, targets_length 6, examples ([5 6 1], [7 1]) and ([8 1], [9 9 1])
      input_ids [5 6 1 8 1 0],   encoder_segment_ids [1 1 1 2 2 0]
      labels [7 1 9 9 1 -100],   decoder_input_ids [0 7 0 9 9 0],
      decoder_segment_ids [1 1 2 2 2 0]
    """
    for name, value in (("inputs_length", inputs_length), ("targets_length", targets_length)):
        if value is None:
            raise ValueError(f"pack needs a fixed {name}; use collate() to pad to the longest")
        _check_length(name, value)
    pairs = []
    for i, ex in enumerate(examples):
        inputs, targets = _as_example(ex, i)
        if len(inputs) == 0 or len(targets) == 0:
            raise ValueError(f"example {i} has empty inputs or targets; every packed example "
                             f"needs at least one token on each side (drop it first)")
        pairs.append((inputs[:inputs_length], targets[:targets_length]))
    if not pairs:
        raise ValueError("pack got no examples; pass a non-empty list of (inputs, targets)")
    rows = _greedy_rows(pairs, inputs_length, targets_length)
    input_ids, enc_seg, _ = _fill_side(rows, 0, inputs_length, PAD_ID)
    labels, dec_seg, decoder_input_ids = _fill_side(rows, 1, targets_length, IGNORE_INDEX)
    return Batch(input_ids=input_ids, attention_mask=(enc_seg > 0).astype(np.int64),
                 labels=labels, decoder_input_ids=decoder_input_ids,
                 encoder_segment_ids=enc_seg, decoder_segment_ids=dec_seg)
