"""Chapter 9 exercises: the single-stack models of §3.2, and what the architectures cost.

The chapter draws the attention patterns of Figure 3 for one unpacked sequence and counts the
parameters and FLOPs of one configuration. These exercises take the next steps: the row a
decoder-only model reads for one example, the prefix-LM mask of a packed row, and the counts
for any configuration of any of the five architectures, without building the model. Grade
with `make grade EX=9.1` or `minit5 grade 9`. Inputs are NumPy arrays (or a config); leave
them as they were passed.
"""


def decoder_only_example(inputs, targets, length):
    """Exercise 9.1: one (inputs, targets) example as the row a decoder-only model reads.

    The model reads the inputs followed by the targets as one sequence (cut to `length`
    tokens when longer, the targets losing their end), shifted right by one: the decoder
    start id 0 comes first and the sequence's last token is dropped. It predicts every next
    token, but the loss counts only the target positions. A prefix LM sees the prefix
    positions in both directions: the positions that read the start id or an input token,
    which is one more than there are inputs (the position that predicts the first target
    reads the last input). Positions after the sequence are padding.

    Graded: the three arrays exactly, for random examples (some cut), and that the inputs
    are unchanged.

    Args:
        inputs: int array (n,), the input ids, n < length (may be empty).
        targets: int array (m,), the target ids, m >= 1.
        length: the row's length in tokens.

    Returns:
        (input_ids, labels, prefix_mask), each an int64 array (length,): input_ids the shifted
        sequence, 0 on padding; labels the sequence's token where the loss counts, -100
        elsewhere (inputs and padding); prefix_mask 1 on the prefix positions, 0 elsewhere.
    """
    # TODO: Exercise 9.1
    raise NotImplementedError("Exercise 9.1")


def packed_prefix_lm_mask(prefix_mask, segment_ids):
    """Exercise 9.2: which keys each query of a packed prefix-LM row may see.

    A packed row holds several examples, one segment each (segment ids 1, 2, ...; 0 on
    padding). Query i may see key j when both are in the same example (never a padding
    key), and j is not after i, or j lies in the example's prefix.

    Graded: every entry, for rows packed from random examples (with and without padding,
    some with no prefix beyond the first position), and that the inputs are unchanged.

    Args:
        prefix_mask: int array (B, L), 1 on prefix positions, 0 elsewhere.
        segment_ids: int array (B, L), the example each position belongs to, 0 on padding.

    Returns:
        A bool array (B, 1, L, L): entry [b, 0, i, j] is True when query i of row b may see
        key j.
    """
    # TODO: Exercise 9.2
    raise NotImplementedError("Exercise 9.2")
