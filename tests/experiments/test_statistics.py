"""Paired differences over seeds and bootstrap intervals over test examples."""
import numpy as np
import pytest

from minit5.experiments.statistics import bootstrap_interval, paired_difference


def test_paired_difference_is_the_summary_of_the_per_seed_gaps():
    # Gaps 2, 3, 4: mean 3, sample std 1 (the rows' own spreads are 10 and 9 times larger).
    got = paired_difference([60.0, 50.0, 70.0], [58.0, 47.0, 66.0])
    assert got == pytest.approx({"mean": 3.0, "std": 1.0})
    assert paired_difference([5.0], [2.0]) == {"mean": 3.0, "std": 0.0}


def test_paired_difference_is_antisymmetric_and_ignores_a_shared_shift():
    rng = np.random.default_rng(0)
    a, b, shift = rng.normal(size=5), rng.normal(size=5), rng.normal(size=5)
    ab, ba = paired_difference(a, b), paired_difference(b, a)
    assert ab["mean"] == pytest.approx(-ba["mean"]) and ab["std"] == pytest.approx(ba["std"])
    shifted = paired_difference(a + shift, b + shift)        # each seed's luck, shared
    assert shifted == pytest.approx(ab)


@pytest.mark.parametrize("a, b", [([1.0, 2.0], [1.0]), ([], []), ([[1.0]], [[1.0]])])
def test_paired_difference_refuses_rows_that_do_not_pair(a, b):
    with pytest.raises(ValueError, match="one score per seed"):
        paired_difference(a, b)


def test_bootstrap_interval_follows_its_documented_draws():
    correct = np.array([True, False, True, True, False, True, True, True])
    low, high = bootstrap_interval(correct, np.random.default_rng(3), n_resamples=50,
                                   level=0.8)
    draws = np.random.default_rng(3).integers(0, 8, size=(50, 8))
    accuracies = np.sort(100 * correct[draws].mean(axis=1))
    # The 10% and 90% quantiles of 50 values by linear interpolation: positions 4.9 and 44.1.
    assert low == pytest.approx(accuracies[4] + 0.9 * (accuracies[5] - accuracies[4]))
    assert high == pytest.approx(accuracies[44] + 0.1 * (accuracies[45] - accuracies[44]))


def test_bootstrap_interval_brackets_the_accuracy_and_narrows_with_more_examples():
    rng = np.random.default_rng(1)
    small = rng.random(60) < 0.7
    large = rng.random(2400) < 0.7
    lo_s, hi_s = bootstrap_interval(small, np.random.default_rng(0))
    lo_l, hi_l = bootstrap_interval(large, np.random.default_rng(0))
    assert lo_s <= 100 * small.mean() <= hi_s and lo_l <= 100 * large.mean() <= hi_l
    # The width shrinks like 1 / sqrt(N): 40 times the examples, about a sixth of the width.
    assert (hi_l - lo_l) < 0.3 * (hi_s - lo_s)
    assert bootstrap_interval(np.ones(30, bool), np.random.default_rng(0)) == (100.0, 100.0)


@pytest.mark.parametrize("correct, kwargs, match", [
    (np.array([]), {}, "non-empty"),
    (np.array([0.3, 0.9]), {}, "True/False"),
    (np.array([1, 0]), {"n_resamples": 0}, "positive integer"),
    (np.array([1, 0]), {"level": 95}, "fraction"),
])
def test_bootstrap_interval_refuses_bad_input(correct, kwargs, match):
    with pytest.raises(ValueError, match=match):
        bootstrap_interval(correct, np.random.default_rng(0), **kwargs)
