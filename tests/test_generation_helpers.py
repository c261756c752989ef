"""Generation helpers on cases worked by hand: `ban_repeated_ngrams` (transformers'
no_repeat_ngram_size rule) and `top_candidates` (ties broken by the lower index)."""
import numpy as np
import pytest

from minit5.reference.ngram_ban import ban_repeated_ngrams


def banned(logits, sequences, n):
    out = ban_repeated_ngrams(logits, sequences, n)
    return [np.flatnonzero(np.isneginf(row)).tolist() for row in out]


def test_bans_the_token_that_would_repeat_a_bigram():
    logits = np.zeros((2, 10))
    sequences = np.array([[0, 5, 7, 5],          # 5 was followed by 7: ban 7
                          [0, 3, 4, 6]])         # 6 never seen before: nothing
    assert banned(logits, sequences, 2) == [[7], []]


def test_every_continuation_of_a_repeated_prefix_is_banned():
    sequences = np.array([[0, 2, 3, 9, 2, 3, 4, 2, 3]])   # "2 3" was followed by 9 and 4
    assert banned(np.zeros((1, 12)), sequences, 3) == [[4, 9]]


def test_unigrams_ban_every_token_seen_and_short_rows_ban_nothing():
    sequences = np.array([[0, 4, 4, 6]])
    assert banned(np.zeros((1, 8)), sequences, 1) == [[0, 4, 6]]
    assert banned(np.zeros((1, 8)), np.array([[0, 4]]), 4) == [[]]     # t + 1 < n


def test_inputs_are_left_unchanged_and_other_values_kept():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(1, 6))
    sequences = np.array([[0, 1, 0]])
    before = logits.copy()
    out = ban_repeated_ngrams(logits, sequences, 2)
    np.testing.assert_array_equal(logits, before)
    assert np.isneginf(out[0, 1])
    np.testing.assert_array_equal(np.delete(out[0], 1), np.delete(before[0], 1))


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="ngram_size must be at least 1"):
        ban_repeated_ngrams(np.zeros((1, 4)), np.zeros((1, 2), dtype=int), 0)
    with pytest.raises(ValueError, match="one row per row of logits"):
        ban_repeated_ngrams(np.zeros((2, 4)), np.zeros((3, 2), dtype=int), 2)


def test_top_candidates_breaks_ties_by_the_lower_index_even_at_the_cut():
    from minit5.t5.generation import top_candidates
    rng = np.random.default_rng(0)
    for _ in range(200):
        n_cols = int(rng.integers(1, 30))
        n = int(rng.integers(1, n_cols + 1))
        scores = rng.integers(-3, 1, size=(3, n_cols)).astype(np.float64)   # many ties
        indices, values = top_candidates(scores, n)
        expected = np.argsort(-scores, axis=1, kind="stable")[:, :n]
        np.testing.assert_array_equal(indices, expected)
        np.testing.assert_array_equal(values, np.take_along_axis(scores, expected, axis=1))
