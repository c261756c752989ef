"""One shift_right and one ignore label, used by the data layer and the model alike."""
import numpy as np
import pytest

from minit5 import labels


def by_hand(row, start, pad):
    """HF's rule for one row: [start] + row[:-1], with -100 read as pad."""
    return [pad if y == -100 else y for y in [start] + list(row[:-1])]


@pytest.mark.parametrize("start, pad", [(0, 0), (3, 0), (0, 5)])
def test_shift_right_follows_the_rule_and_leaves_labels_alone(start, pad):
    rng = np.random.default_rng(0)
    y = rng.integers(-1, 50, size=(4, 9))
    y[y < 2] = labels.IGNORE_INDEX
    before = y.copy()
    got = labels.shift_right(y, decoder_start_token_id=start, pad_token_id=pad)
    assert got.tolist() == [by_hand(row, start, pad) for row in before.tolist()]
    np.testing.assert_array_equal(y, before)


def test_the_data_and_model_layers_use_this_one_function():
    from minit5 import t5
    from minit5.data import batching
    assert batching.shift_right is labels.shift_right
    assert t5.shift_right is labels.shift_right
    assert batching.IGNORE_INDEX == labels.IGNORE_INDEX == -100
    batch = batching.collate([(np.array([4, 1]), np.array([7, 8, 1])),
                              (np.array([5, 1]), np.array([9, 1]))])
    np.testing.assert_array_equal(batch.decoder_input_ids, labels.shift_right(batch.labels))


def test_one_dimensional_labels_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"labels\[None, :\]"):
        labels.shift_right(np.array([5, 6, 1]))
