"""Measures of a pre-training corpus: unigram cross entropy, repeat profile, shared spans."""
import math

import numpy as np
import pytest

from minit5.reference.corpus_measures import repeat_profile, shared_spans, unigram_cross_entropy

# --- unigram_cross_entropy ----------------------------------------------------------------------

def test_unigram_cross_entropy_by_hand():
    # corpus words: the x2, cat x1 -> N = 3, V = 2 + 1; alpha = 1 -> denominator 6
    # "The dog": p(the) = 3/6, p(dog) = (0 + 1)/6 (the unseen slot)
    got = unigram_cross_entropy(["the cat", "THE"], ["The dog."])
    assert got == pytest.approx((-math.log2(3 / 6) - math.log2(1 / 6)) / 2)


def test_unigram_cross_entropy_prefers_the_matching_corpus():
    text = ["arrays of numbers and arrays of shapes"]
    near = unigram_cross_entropy(["an array of numbers has a shape", "arrays and shapes"], text)
    far = unigram_cross_entropy(["the socket opens a connection to the host"], text)
    assert near < far


def test_unigram_cross_entropy_smoothing_is_a_distribution():
    pages = ["a b b c c c"]
    for alpha in (0.1, 1.0, 3.0):
        # every slot: the three words and the unseen one
        probs = [2 ** -unigram_cross_entropy(pages, [w], alpha) for w in ("a", "b", "c", "zzz")]
        assert sum(probs) == pytest.approx(1.0)


@pytest.mark.parametrize("pages, sentences, alpha, error, message", [
    ("one page", ["x"], 1.0, TypeError, r"write \[pages\]"),
    (["a"], "x", 1.0, TypeError, r"write \[sentences\]"),
    (["a"], ["x"], 0.0, ValueError, "alpha must be positive"),
    (["42 !"], ["x"], 1.0, ValueError, "has no words"),
    (["a"], ["42"], 1.0, ValueError, "no words to score"),
])
def test_unigram_cross_entropy_errors(pages, sentences, alpha, error, message):
    with pytest.raises(error, match=message):
        unigram_cross_entropy(pages, sentences, alpha)


# --- repeat_profile -----------------------------------------------------------------------------

def test_repeat_profile_is_the_binomial():
    got = repeat_profile(4, 3, 5)
    p = 1 / 4
    expected = [math.comb(3, k) * p ** k * (1 - p) ** (3 - k) for k in range(4)] + [0, 0]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_repeat_profile_large_budget_is_finite_and_matches_sampling():
    pieces, draws = 200, 12_800                    # the miniature's 64-repeat row
    profile = repeat_profile(pieces, draws, 200)
    assert np.all(np.isfinite(profile)) and profile.sum() == pytest.approx(1.0, abs=1e-9)
    mean = (np.arange(201) * profile).sum()
    assert mean == pytest.approx(draws / pieces, rel=1e-6)
    rng = np.random.default_rng(0)                  # 100 simulated pre-training runs
    shares = [np.bincount(np.bincount(rng.integers(0, pieces, draws), minlength=pieces),
                          minlength=400)[:201] / pieces for _ in range(100)]
    assert np.abs(np.mean(shares, axis=0) - profile).sum() < 0.05


def test_repeat_profile_edges():
    np.testing.assert_array_equal(repeat_profile(1, 3, 4), [0, 0, 0, 1, 0])
    np.testing.assert_array_equal(repeat_profile(5, 0, 2), [1, 0, 0])
    assert repeat_profile(10, 10, 0)[0] == pytest.approx(0.9 ** 10)
    for bad in (dict(num_pieces=0, draws=1, max_count=1), dict(num_pieces=2, draws=-1,
                max_count=1), dict(num_pieces=2.0, draws=1, max_count=1)):
        with pytest.raises(ValueError, match="must be a whole number"):
            repeat_profile(**bad)


# --- shared_spans -------------------------------------------------------------------------------

PAGE_A = "One is here. Two is here.\nThree is here. Four is here."
PAGE_B = "Zero is there. Two is here. Three is here.\nFour is here. Five is there."


def test_shared_spans_finds_runs_across_lines_of_one_page():
    assert shared_spans([PAGE_A], [PAGE_B]) == [("Two is here.", "Three is here.", "Four is here.")]
    assert len(shared_spans([PAGE_A], [PAGE_B], span=2)) == 2
    assert shared_spans([PAGE_A], [PAGE_A]) == sorted(
        [("One is here.", "Two is here.", "Three is here."),
         ("Two is here.", "Three is here.", "Four is here.")])


def test_shared_spans_do_not_cross_pages():
    split = ["One is here. Two is here.", "Three is here. Four is here."]
    assert shared_spans([PAGE_A], split) == []
    assert shared_spans(split, [PAGE_A]) == []


def test_shared_spans_errors():
    with pytest.raises(TypeError, match=r"write \[other_pages\]"):
        shared_spans([PAGE_A], PAGE_B)
    with pytest.raises(ValueError, match="span must be"):
        shared_spans([PAGE_A], [PAGE_B], span=0)
