"""What the §3.3 objectives cost and BERT's own corruption rule: `expected_iid_denoising_lengths`
(checked exactly against every mask of short sequences), `noise_span_lengths`, and
`bert_style(keep_token_prob=...)`."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minit5.data.objectives import (
    NUM_RESERVED_TOKENS,
    bert_style,
    expected_iid_denoising_lengths,
    iid_noise_mask,
    noise_span_lengths,
    noise_span_to_unique_sentinel,
    nonnoise_span_to_unique_sentinel,
)

VOCAB = 1000


@pytest.mark.parametrize("n", range(1, 9))
@pytest.mark.parametrize("r", [0.0, 0.15, 0.5, 0.8, 1.0])
def test_expected_lengths_equal_the_average_over_every_mask(n, r):
    tokens = np.arange(3, 3 + n)
    expected_inputs = expected_targets = 0.0
    for bits in itertools.product([False, True], repeat=n):
        mask = np.array(bits)
        weight = r ** mask.sum() * (1 - r) ** (n - mask.sum())
        expected_inputs += weight * (len(noise_span_to_unique_sentinel(tokens, mask, VOCAB)) + 1)
        expected_targets += weight * (len(nonnoise_span_to_unique_sentinel(tokens, mask, VOCAB))
                                      + 1)
    inputs, targets = expected_iid_denoising_lengths(n, r)
    assert inputs == pytest.approx(expected_inputs, abs=1e-12)
    assert targets == pytest.approx(expected_targets, abs=1e-12)


def test_expected_lengths_example_and_errors():
    inputs, targets = expected_iid_denoising_lengths(63)
    assert (round(inputs, 3), round(targets, 3)) == (62.605, 19.205)
    with pytest.raises(ValueError, match="at least 1 token"):
        expected_iid_denoising_lengths(0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        expected_iid_denoising_lengths(10, 1.5)


@given(st.lists(st.booleans(), max_size=60))
def test_noise_span_lengths_are_the_runs_of_true(bits):
    mask = np.array(bits, dtype=bool)
    lengths = noise_span_lengths(mask)
    assert lengths.dtype == np.int64 and (lengths >= 1).all()
    assert lengths.sum() == mask.sum()
    rebuilt = [length for key, run in itertools.groupby(bits) if key
               for length in [len(list(run))]]
    assert lengths.tolist() == rebuilt


def test_noise_span_lengths_example_and_errors():
    mask = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 1], dtype=bool)
    assert noise_span_lengths(mask).tolist() == [2, 1, 3]
    assert noise_span_lengths(np.zeros(0, dtype=bool)).tolist() == []
    with pytest.raises(ValueError, match="boolean"):
        noise_span_lengths(np.array([0, 1, 1]))


def test_iid_mean_span_length_is_one_over_one_minus_r():
    mask = iid_noise_mask(400_000, 0.15, np.random.default_rng(0))
    assert noise_span_lengths(mask).mean() == pytest.approx(1 / 0.85, rel=0.01)


@given(st.integers(0, 2**32 - 1), st.integers(1, 80))
@settings(max_examples=40)
def test_bert_style_default_draws_are_unchanged(seed, n):
    # The rule before keep_token_prob existed, written out: a random id below 0.1, else mask.
    tokens = np.arange(3, 3 + n)
    rng = np.random.default_rng(seed)
    noise = rng.random(n) < 0.15
    use_random = rng.random(n) < 0.1
    random_tokens = rng.integers(NUM_RESERVED_TOKENS, VOCAB, size=n)
    old = np.where(noise, np.where(use_random, random_tokens, VOCAB - 1), tokens)
    inputs, _ = bert_style(tokens, VOCAB, np.random.default_rng(seed))
    assert inputs[:-1].tolist() == old.tolist()


def test_bert_original_rule_rates():
    tokens = np.full(200_000, 7)
    noise = iid_noise_mask(len(tokens), 0.15, np.random.default_rng(0))
    inputs, targets = bert_style(tokens, VOCAB, np.random.default_rng(0), keep_token_prob=0.1)
    assert targets[:-1].tolist() == tokens.tolist()
    corrupted = inputs[:-1][noise]
    assert (inputs[:-1][~noise] == 7).all()
    assert np.mean(corrupted == VOCAB - 1) == pytest.approx(0.8, abs=0.01)
    assert np.mean(corrupted == 7) == pytest.approx(0.1, abs=0.01)   # kept (or drawn as 7)


def test_bert_style_rejects_shares_that_do_not_add_up():
    with pytest.raises(ValueError, match="together <= 1"):
        bert_style(np.arange(3, 13), VOCAB, np.random.default_rng(0), random_token_prob=0.6,
                   keep_token_prob=0.5)
