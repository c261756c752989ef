"""Decoder-only packing against the t5 library's test_pack_prefix_lm_decoder_only cases."""
import numpy as np
import pytest

from minit5.data.packing_lm import pack_decoder_only, pad_decoder_only


@pytest.mark.parametrize("row, split, loss_weights, causal", [
    # t5's expected arrays for split points 3 and 5 of a full row of 8
    ([9, 1, 2, 3, 4, 5, 6, 7], 3, [0, 0, 0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0, 0]),
    ([8, 9, 10, 11, 12, 13, 14, 15], 5, [0, 0, 0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0, 0]),
])
def test_matches_t5_pack_prefix_lm_decoder_only(row, split, loss_weights, causal):
    batch = pack_decoder_only([(row[:split], row[split:])], 8)
    assert batch.target_ids[0].tolist() == row
    assert batch.input_ids[0].tolist() == [0] + row[:-1]
    assert (batch.labels[0] != -100).astype(int).tolist() == loss_weights
    assert batch.prefix_mask[0].tolist() == causal


def test_padding_like_t5():
    # t5: targets [8 9 10 11 12 13 0 0], split 3 -> loss [0 0 0 1 1 1 0 0], causal [1 1 1 1 0...]
    batch = pack_decoder_only([([8, 9, 10], [11, 12, 13])], 8)
    assert batch.target_ids[0].tolist() == [8, 9, 10, 11, 12, 13, 0, 0]
    assert (batch.labels[0] != -100).astype(int).tolist() == [0, 0, 0, 1, 1, 1, 0, 0]
    assert batch.prefix_mask[0].tolist() == [1, 1, 1, 1, 0, 0, 0, 0]
    # t5 shifts the padded row as a whole (13 lands on a padding position, weight 0); segments
    # here start every example afresh, so padding reads the pad id
    assert batch.input_ids[0].tolist() == [0, 8, 9, 10, 11, 12, 0, 0]
    full = pack_decoder_only([([8, 9, 10], [11, 12, 13])], 8, loss_on_targets_only=False)
    assert (full.labels[0] != -100).astype(int).tolist() == [1, 1, 1, 1, 1, 1, 0, 0]


def test_packs_several_examples_per_row_as_segments():
    batch = pack_decoder_only([([5], [6, 1]), ([7, 8], [9, 1]), ([2, 3, 4], [5, 6, 1])], 8)
    assert len(batch) == 2
    assert batch.target_ids.tolist() == [[5, 6, 1, 7, 8, 9, 1, 0], [2, 3, 4, 5, 6, 1, 0, 0]]
    assert batch.input_ids.tolist() == [[0, 5, 6, 0, 7, 8, 9, 0], [0, 2, 3, 4, 5, 6, 0, 0]]
    assert batch.segment_ids.tolist() == [[1, 1, 1, 2, 2, 2, 2, 0], [1, 1, 1, 1, 1, 1, 0, 0]]
    assert not hasattr(batch, "positions")      # the relative bias needs no positions
    assert batch.labels.tolist()[0] == [-100, 6, 1, -100, -100, 9, 1, -100]
    assert batch.prefix_mask.tolist()[0] == [1, 1, 0, 1, 1, 1, 0, 0]
    assert batch[1].target_ids.shape == (1, 8)


def test_errors():
    with pytest.raises(ValueError, match="no room"):
        pack_decoder_only([(list(range(3, 11)), [5])], 8)
    with pytest.raises(ValueError, match="empty targets"):
        pack_decoder_only([([5], [])], 8)
    with pytest.raises(ValueError, match="no examples"):
        pack_decoder_only([], 8)
    with pytest.raises(ValueError, match="pair"):
        pack_decoder_only([np.arange(3)], 8)


def test_pad_decoder_only_puts_one_example_per_row():
    batch = pad_decoder_only([([5, 6], [7, 1]), ([], [8, 9, 1])])
    assert batch.target_ids.tolist() == [[5, 6, 7, 1], [8, 9, 1, 0]]
    assert batch.input_ids.tolist() == [[0, 5, 6, 7], [0, 8, 9, 0]]
    assert batch.labels.tolist() == [[-100, -100, 7, 1], [8, 9, 1, -100]]
    assert batch.prefix_mask.tolist() == [[1, 1, 1, 0], [1, 0, 0, 0]]
    assert batch.segment_ids.tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    everything = pad_decoder_only([([5, 6], [7, 1])], loss_on_targets_only=False)
    assert everything.labels.tolist() == [[5, 6, 7, 1]]
    with pytest.raises(ValueError, match="pad_decoder_only got no examples"):
        pad_decoder_only([])


def test_model_kwargs_and_num_tokens():
    batch = pack_decoder_only([([5], [6, 1]), ([7, 8], [9, 1]), ([2, 3, 4], [5, 6, 1])], 8)
    kwargs = batch.model_kwargs()
    assert list(kwargs) == ["input_ids", "labels", "prefix_mask", "segment_ids"]
    assert kwargs["labels"] is batch.labels
    assert batch.num_tokens == 7 + 6 and batch[1].num_tokens == 6
