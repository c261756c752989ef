"""Padding and packing (§3.1.2): shapes, pad values, shift-right, and packed-row invariants."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minit5.data.batching import Batch, collate, pack, pad_sequences, shift_right


def example(inputs, targets):
    return np.array(inputs, dtype=np.int64), np.array(targets, dtype=np.int64)


def test_shift_right_prepends_start_and_replaces_ignore_index():
    labels = np.array([[5, 6, 7, 1], [8, 1, -100, -100]])
    assert shift_right(labels).tolist() == [[0, 5, 6, 7], [0, 8, 1, 0]]


def test_pad_sequences_to_longest_and_fixed():
    padded, mask = pad_sequences([np.array([4, 5, 6]), np.array([7])])
    assert padded.tolist() == [[4, 5, 6], [7, 0, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    padded, mask = pad_sequences([np.array([4, 5, 6])], length=2, pad_value=-100)
    assert padded.tolist() == [[4, 5]] and mask.tolist() == [[1, 1]]


def test_collate_pads_inputs_with_zero_and_labels_with_ignore_index():
    batch = collate([example([5, 6, 1], [7, 1]), example([8, 1], [9, 9, 9, 1])])
    assert batch.input_ids.tolist() == [[5, 6, 1], [8, 1, 0]]
    assert batch.attention_mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch.labels.tolist() == [[7, 1, -100, -100], [9, 9, 9, 1]]
    assert batch.decoder_input_ids.tolist() == [[0, 7, 1, 0], [0, 9, 9, 9]]
    assert not batch.is_packed
    assert set(batch.model_kwargs()) == {"input_ids", "attention_mask", "labels",
                                         "decoder_input_ids"}
    assert all(a.dtype == np.int64 for a in batch.model_kwargs().values())


def test_collate_fixed_lengths_pad_and_trim():
    batch = collate([example([5, 6, 7, 1], [7, 1])], inputs_length=3, targets_length=4)
    assert batch.input_ids.tolist() == [[5, 6, 7]]
    assert batch.labels.tolist() == [[7, 1, -100, -100]]


def test_collate_errors():
    with pytest.raises(ValueError, match="no examples"):
        collate([])
    with pytest.raises(ValueError, match="example 0 inputs"):
        collate([(np.zeros((2, 2), dtype=np.int64), np.array([1]))])
    with pytest.raises(ValueError, match="inputs_length"):
        collate([example([5, 1], [1])], inputs_length=0)


def test_pack_docstring_example():
    batch = pack([example([5, 6, 1], [7, 1]), example([8, 1], [9, 9, 1])], 6, 6)
    assert batch.input_ids.tolist() == [[5, 6, 1, 8, 1, 0]]
    assert batch.attention_mask.tolist() == [[1, 1, 1, 1, 1, 0]]
    assert batch.encoder_segment_ids.tolist() == [[1, 1, 1, 2, 2, 0]]
    assert batch.labels.tolist() == [[7, 1, 9, 9, 1, -100]]
    assert batch.decoder_input_ids.tolist() == [[0, 7, 0, 9, 9, 0]]
    assert batch.decoder_segment_ids.tolist() == [[1, 1, 2, 2, 2, 0]]
    assert batch.is_packed
    # Segment ids are all packing adds: no per-token positions (segments are contiguous).
    assert set(batch.model_kwargs()) == {
        "input_ids", "attention_mask", "labels", "decoder_input_ids", "encoder_segment_ids",
        "decoder_segment_ids"}


def test_pack_starts_a_new_row_when_either_side_is_full():
    # The second example fits the encoder row but not the decoder row.
    batch = pack([example([5, 1], [7, 7, 1]), example([6, 1], [8, 8, 1])], 8, 4)
    assert len(batch) == 2
    assert batch.encoder_segment_ids.tolist() == [[1, 1, 0, 0, 0, 0, 0, 0]] * 2


def test_pack_trims_examples_longer_than_a_row():
    batch = pack([example([5, 6, 7, 8, 1], [9, 1])], 3, 4)
    assert batch.input_ids.tolist() == [[5, 6, 7]]


def test_pack_errors():
    with pytest.raises(ValueError, match="fixed inputs_length"):
        pack([example([5, 1], [1])], None, 4)
    with pytest.raises(ValueError, match="empty"):
        pack([example([], [1])], 4, 4)
    with pytest.raises(ValueError, match="no examples"):
        pack([], 4, 4)


def test_batch_rows_slice():
    batch = pack([example([5, 1], [7, 1])] * 5, 4, 4)
    assert len(batch) == 3
    part = batch[1:3]
    assert isinstance(part, Batch) and len(part) == 2
    assert part.encoder_segment_ids.shape == (2, 4)
    assert batch[0].input_ids.shape == (1, 4) and batch[-1].input_ids.shape == (1, 4)


def segments(tokens, segment_ids):
    """The per-segment token lists of one row, in order."""
    return [tokens[segment_ids == k].tolist() for k in range(1, segment_ids.max() + 1)]


examples_strategy = st.lists(
    st.tuples(st.lists(st.integers(2, 99), min_size=1, max_size=12),
              st.lists(st.integers(2, 99), min_size=1, max_size=12)),
    min_size=1, max_size=25)


@given(examples_strategy, st.integers(4, 30), st.integers(4, 30))
@settings(max_examples=100)
def test_packing_invariants(raw, inputs_length, targets_length):
    examples = [example(i, t) for i, t in raw]
    batch = pack(examples, inputs_length, targets_length)
    trimmed = [(i[:inputs_length].tolist(), t[:targets_length].tolist()) for i, t in examples]

    unpacked = []
    for r in range(len(batch)):
        enc_seg, dec_seg = batch.encoder_segment_ids[r], batch.decoder_segment_ids[r]
        # Segment ids run 1, 2, ..., k then 0 padding, on both sides with the same k.
        for seg in (enc_seg, dec_seg):
            used = seg[seg > 0]
            assert (np.diff(seg[: len(used)]) >= 0).all() and (seg[len(used):] == 0).all()
        assert enc_seg.max() == dec_seg.max() >= 1
        # Each segment is one contiguous run (so `j - i` inside it is the example's own offset).
        for seg in (enc_seg, dec_seg):
            for k in range(1, seg.max() + 1):
                where = np.flatnonzero(seg == k)
                assert where.size and (np.diff(where) == 1).all()
        assert (batch.attention_mask[r] == (enc_seg > 0)).all()
        assert (batch.input_ids[r][enc_seg == 0] == 0).all()
        assert (batch.labels[r][dec_seg == 0] == -100).all()
        # Decoder inputs: shift right within each segment, 0 at each segment start and padding.
        labels, dec_in = batch.labels[r], batch.decoder_input_ids[r]
        for k in range(1, dec_seg.max() + 1):
            seg_labels = labels[dec_seg == k].tolist()
            assert dec_in[dec_seg == k].tolist() == [0] + seg_labels[:-1]
        assert (dec_in[dec_seg == 0] == 0).all()
        unpacked += list(zip(segments(batch.input_ids[r], enc_seg), segments(labels, dec_seg)))

    # Every example appears once, in order, unchanged (after trimming).
    assert unpacked == trimmed
    # Greedy: the first example of each row did not fit at the end of the row before it.
    firsts = np.cumsum([0] + [int(batch.encoder_segment_ids[r].max()) for r in range(len(batch))])
    for r in range(1, len(batch)):
        first_in, first_tg = trimmed[firsts[r]]
        used_in = int((batch.encoder_segment_ids[r - 1] > 0).sum())
        used_tg = int((batch.decoder_segment_ids[r - 1] > 0).sum())
        assert used_in + len(first_in) > inputs_length or used_tg + len(first_tg) > targets_length
