"""The named attention masks: each says which keys a query may see (True = attend)."""
import numpy as np

from minit5.t5.attention import additive_mask, causal_mask, padding_mask, segment_mask


def test_padding_mask_hides_padded_keys_from_every_query():
    keep = padding_mask(np.array([[1, 1, 0], [1, 0, 0]]), 3, np)
    assert keep.shape == (2, 1, 1, 3)
    assert keep[:, 0, 0].tolist() == [[True, True, False], [True, False, False]]
    assert padding_mask(None, 4, np).shape == (1, 1, 1, 4) and padding_mask(None, 4, np).all()


def test_causal_mask_is_the_lower_triangle_and_follows_a_cache():
    np.testing.assert_array_equal(causal_mask(4, 4, np)[0, 0], np.tril(np.ones((4, 4), bool)))
    # One new query after 3 cached tokens sees all 4 keys; two new queries see 4 and 5 keys.
    assert causal_mask(1, 4, np)[0, 0].tolist() == [[True] * 4]
    assert causal_mask(2, 5, np)[0, 0].sum(axis=-1).tolist() == [4, 5]
    # The last Lq rows of the full triangle are what a cached step computes.
    np.testing.assert_array_equal(causal_mask(2, 5, np)[0, 0], np.tril(np.ones((5, 5), bool))[3:])


def test_segment_mask_keeps_each_example_to_itself_and_never_sees_padding():
    seg = np.array([[1, 1, 2, 2, 2, 0]])
    keep = segment_mask(seg, seg)[0, 0]                                  # (Lq, Lk)
    for i in range(6):
        for j in range(6):
            assert keep[i, j] == (seg[0, i] == seg[0, j] != 0), (i, j)
    enc = np.array([[1, 2, 2, 0]])
    cross = segment_mask(seg, enc)[0, 0]                                 # (L_dec, L_enc)
    assert cross[0].tolist() == [True, False, False, False]
    assert cross[2].tolist() == [False, True, True, False]
    assert not cross[5].any()


def test_masks_compose_with_and_into_one_additive_mask():
    seg = np.array([[1, 1, 2, 2]])
    keep = padding_mask(np.array([[1, 1, 1, 1]]), 4, np) & causal_mask(4, 4, np) \
        & segment_mask(seg, seg)
    added = additive_mask(keep, np.dtype(np.float32))
    assert added.shape == (1, 1, 4, 4) and added.dtype == np.float32
    lowest = np.finfo(np.float32).min
    assert added[0, 0, 3].tolist() == [lowest, lowest, 0.0, 0.0]
    assert added[0, 0, 1].tolist() == [0.0, 0.0, lowest, lowest]


def test_additive_mask_takes_a_dtype_or_a_scalar_type():
    keep = np.array([True, False])
    for dtype in (np.float64, np.dtype("float64")):
        assert additive_mask(keep, dtype).tolist() == [0.0, np.finfo(np.float64).min]
