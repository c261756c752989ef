"""Pre-training objectives (§3.1.4, §3.3). Masks depend on the RNG, so most tests check
invariants that hold for every draw: counts, span structure, lengths, and reconstruction."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minit5.data.objectives import (
    _random_segmentation,
    bert_style,
    deshuffle,
    drop_tokens,
    iid_noise_mask,
    iid_replace_spans,
    mass_style,
    noise_span_to_unique_sentinel,
    nonnoise_span_to_unique_sentinel,
    prefix_lm,
    random_spans_helper,
    random_spans_noise_mask,
    span_corruption,
)

VOCAB = 1000          # 900 pieces + 100 sentinels
SENTINEL_0 = VOCAB - 1


def token_arrays(min_size=0, max_size=300):
    """Ordinary token ids (never special, never a sentinel)."""
    return st.lists(st.integers(3, VOCAB - 101), min_size=min_size, max_size=max_size).map(
        lambda xs: np.array(xs, dtype=np.int64))


seeds = st.integers(0, 2**32 - 1)
densities = st.floats(0.05, 0.45)
mean_lengths = st.floats(1.0, 6.0)


def split_at_sentinels(seq):
    """[a b S0 c S1 d] -> ([a b], [c], [d]) and the sentinels seen (S0, S1)."""
    parts, sentinels, current = [], [], []
    for t in seq.tolist():
        if t > VOCAB - 101:
            parts.append(current)
            sentinels.append(t)
            current = []
        else:
            current.append(t)
    parts.append(current)
    return parts, sentinels


def rebuild(inputs, targets):
    """Undo span corruption: inputs are kept_0 S0 kept_1 S1 ... and targets S0 noise_0 S1
    noise_1 ..., so the original is kept_0 noise_0 kept_1 noise_1 ..."""
    kept, in_sentinels = split_at_sentinels(inputs[:-1])
    dropped, tg_sentinels = split_at_sentinels(targets[:-1])
    assert dropped[0] == []       # the targets start with <extra_id_0>
    out = []
    for i, run in enumerate(kept):
        out += run
        if i + 1 < len(dropped):
            out += dropped[i + 1]
    return np.array(out, dtype=np.int64), in_sentinels, tg_sentinels


def num_spans(mask):
    return int(np.sum(mask & ~np.concatenate([[False], mask[:-1]])))


# ---- random_spans_noise_mask -----------------------------------------------------------------

@given(st.integers(2, 2000), densities, mean_lengths, seeds)
@settings(max_examples=150)
def test_noise_mask_counts_and_shape(length, density, mean, seed):
    mask = random_spans_noise_mask(length, density, mean, np.random.default_rng(seed))
    expected_noise = min(max(round(length * density), 1), length - 1)
    assert mask.shape == (length,) and mask.dtype == bool
    assert mask.sum() == expected_noise
    assert num_spans(mask) == max(round(expected_noise / mean), 1)
    assert not mask[0] and mask[-1]


def test_noise_mask_short_lengths():
    rng = np.random.default_rng(0)
    assert random_spans_noise_mask(0, rng=rng).shape == (0,)
    assert random_spans_noise_mask(1, rng=rng).tolist() == [False]    # L = 2, truncated to 1
    assert random_spans_noise_mask(2, rng=rng).tolist() == [False, True]


def test_noise_mask_is_a_function_of_the_generator_state():
    a = random_spans_noise_mask(500, rng=np.random.default_rng(7))
    b = random_spans_noise_mask(500, rng=np.random.default_rng(7))
    c = random_spans_noise_mask(500, rng=np.random.default_rng(8))
    assert (a == b).all() and (a != c).any()


def test_noise_mask_requires_an_explicit_generator():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        random_spans_noise_mask(10)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        random_spans_noise_mask(10, rng=0)


def test_noise_mask_rejects_impossible_settings():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="noise_density"):
        random_spans_noise_mask(3, noise_density=0.5, mean_noise_span_length=1.0, rng=rng)
    with pytest.raises(ValueError, match="mean_noise_span_length"):
        random_spans_noise_mask(10, mean_noise_span_length=0.5, rng=rng)
    with pytest.raises(ValueError, match="noise_density"):
        random_spans_noise_mask(10, noise_density=1.0, rng=rng)


def test_random_segmentation_is_uniform_over_compositions():
    # 4 items in 2 positive parts: (1, 3), (2, 2), (3, 1), each with probability 1/3.
    rng = np.random.default_rng(0)
    draws = [tuple(_random_segmentation(4, 2, rng)) for _ in range(3000)]
    for composition in [(1, 3), (2, 2), (3, 1)]:
        assert abs(draws.count(composition) / 3000 - 1 / 3) < 0.04
    assert set(draws) == {(1, 3), (2, 2), (3, 1)}


# ---- random_spans_helper ---------------------------------------------------------------------

@pytest.mark.parametrize("inputs_length, expected",
                         [(512, (568, 114)), (128, (141, 29)), (256, (284, 58)),
                          (1024, (1137, 229))])
def test_helper_matches_t5_documented_values(inputs_length, expected):
    assert random_spans_helper(inputs_length) == expected


def corrupted_lengths(tokens_length, density=0.15, mean=3.0):
    noise = round(tokens_length * density)
    spans = round(noise / mean)
    return tokens_length - noise + spans + 1, noise + spans + 1


@given(st.integers(8, 4096))
@settings(max_examples=80)
def test_helper_returns_the_largest_tokens_length_that_fits(inputs_length):
    tokens_length, targets_length = random_spans_helper(inputs_length)
    assert corrupted_lengths(tokens_length)[0] <= inputs_length
    assert corrupted_lengths(tokens_length + 1)[0] > inputs_length
    assert targets_length == corrupted_lengths(tokens_length)[1]


@given(st.integers(16, 600), seeds)
@settings(max_examples=60)
def test_span_corruption_fills_the_helper_lengths_exactly(inputs_length, seed):
    tokens_length, targets_length = random_spans_helper(inputs_length)
    tokens = np.random.default_rng(seed).integers(3, VOCAB - 100, size=tokens_length)
    inputs, targets = span_corruption(tokens, VOCAB, np.random.default_rng(seed))
    assert (len(inputs), len(targets)) == (inputs_length, targets_length)


# ---- sentinels and span corruption -----------------------------------------------------------

def test_sentinel_functions_on_a_small_example():
    tokens = np.array([5, 6, 7, 8, 9])
    mask = np.array([False, True, True, False, True])
    assert noise_span_to_unique_sentinel(tokens, mask, 100).tolist() == [5, 99, 8, 98]
    assert nonnoise_span_to_unique_sentinel(tokens, mask, 100).tolist() == [99, 6, 7, 98, 9]


def test_sentinel_functions_check_their_arguments():
    with pytest.raises(ValueError, match="shape"):
        noise_span_to_unique_sentinel(np.arange(5), np.zeros(4, dtype=bool), 100)
    with pytest.raises(ValueError, match="sentinels"):
        noise_span_to_unique_sentinel(np.arange(10), np.arange(10) % 2 == 1, 100, extra_ids=3)


@given(token_arrays(min_size=2), densities, mean_lengths, seeds)
@settings(max_examples=150)
def test_span_corruption_rebuilds_the_original(tokens, density, mean, seed):
    inputs, targets = span_corruption(tokens, VOCAB, np.random.default_rng(seed), density, mean)
    assert inputs[-1] == 1 and targets[-1] == 1
    assert inputs.dtype == np.int64 and targets.dtype == np.int64
    original, in_sentinels, tg_sentinels = rebuild(inputs, targets)
    assert original.tolist() == tokens.tolist()
    # Both sides use <extra_id_0>, <extra_id_1>, ... in order, one per noise span.
    mask = random_spans_noise_mask(len(tokens), density, mean, np.random.default_rng(seed))
    expected = list(range(SENTINEL_0, SENTINEL_0 - num_spans(mask), -1))
    assert in_sentinels == expected and tg_sentinels == expected
    assert len(inputs) == len(tokens) - mask.sum() + num_spans(mask) + 1
    assert len(targets) == mask.sum() + num_spans(mask) + 1


def test_span_corruption_example_and_eos_option():
    inputs, targets = span_corruption(np.arange(10, 22), 100, np.random.default_rng(0))
    mask = random_spans_noise_mask(12, rng=np.random.default_rng(0))
    expected = noise_span_to_unique_sentinel(np.arange(10, 22), mask, 100).tolist() + [1]
    assert inputs.tolist() == expected
    no_eos, _ = span_corruption(np.arange(10, 22), 100, np.random.default_rng(0), eos_id=None)
    assert no_eos.tolist() == inputs[:-1].tolist()


def test_span_corruption_rejects_bad_tokens_and_rng():
    with pytest.raises(ValueError, match="1-D integer"):
        span_corruption(np.zeros((2, 5), dtype=np.int64), VOCAB, np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        span_corruption(np.arange(5), VOCAB, None)


# ---- the other §3.3 objectives ---------------------------------------------------------------

@given(token_arrays(min_size=2), seeds)
@settings(max_examples=60)
def test_prefix_lm_splits_into_two_nonempty_parts(tokens, seed):
    inputs, targets = prefix_lm(tokens, np.random.default_rng(seed))
    assert len(inputs) >= 2 and len(targets) >= 2
    assert np.concatenate([inputs[:-1], targets[:-1]]).tolist() == tokens.tolist()
    with pytest.raises(ValueError, match="at least 2"):
        prefix_lm(tokens[:1], np.random.default_rng(seed))


@given(token_arrays(), seeds)
@settings(max_examples=60)
def test_deshuffle_permutes_the_inputs_and_targets_the_original(tokens, seed):
    inputs, targets = deshuffle(tokens, np.random.default_rng(seed))
    assert sorted(inputs[:-1].tolist()) == sorted(tokens.tolist())
    assert targets.tolist() == tokens.tolist() + [1]


@given(token_arrays(), st.floats(0.0, 1.0), seeds)
@settings(max_examples=60)
def test_drop_tokens_splits_on_the_iid_mask(tokens, density, seed):
    inputs, targets = drop_tokens(tokens, np.random.default_rng(seed), density)
    mask = iid_noise_mask(len(tokens), density, np.random.default_rng(seed))
    assert inputs[:-1].tolist() == tokens[~mask].tolist()
    assert targets[:-1].tolist() == tokens[mask].tolist()


@given(token_arrays(min_size=1, max_size=150), st.floats(0.0, 0.6), seeds)
@settings(max_examples=60)
def test_iid_replace_spans_rebuilds_the_original(tokens, density, seed):
    inputs, targets = iid_replace_spans(tokens, VOCAB, np.random.default_rng(seed), density)
    mask = iid_noise_mask(len(tokens), density, np.random.default_rng(seed))
    assert inputs[:-1].tolist() == noise_span_to_unique_sentinel(tokens, mask, VOCAB).tolist()
    assert targets[:-1].tolist() == nonnoise_span_to_unique_sentinel(tokens, mask, VOCAB).tolist()


@given(token_arrays(), seeds)
@settings(max_examples=60)
def test_bert_and_mass_target_the_original(tokens, seed):
    for inputs, targets in (bert_style(tokens, VOCAB, np.random.default_rng(seed)),
                            mass_style(tokens, VOCAB, np.random.default_rng(seed))):
        assert targets.tolist() == tokens.tolist() + [1]
        assert len(inputs) == len(targets) and inputs[-1] == 1


def test_bert_style_rates():
    tokens = np.full(40000, 7)
    inputs, _ = bert_style(tokens, VOCAB, np.random.default_rng(0))
    changed = inputs[:-1] != 7
    assert abs(changed.mean() - 0.15) < 0.01                       # 15% corrupted
    masked = inputs[:-1][changed] == SENTINEL_0
    assert abs(masked.mean() - 0.9) < 0.03                          # 90% of them the mask token


def test_mass_style_uses_only_the_mask_token():
    inputs, _ = mass_style(np.full(5000, 7), VOCAB, np.random.default_rng(0))
    assert set(inputs[:-1].tolist()) == {7, SENTINEL_0}


def test_objectives_require_a_generator():
    tokens = np.arange(3, 13)
    for call in (lambda: prefix_lm(tokens, 0), lambda: deshuffle(tokens, None),
                 lambda: drop_tokens(tokens, 1), lambda: bert_style(tokens, VOCAB, None),
                 lambda: iid_replace_spans(tokens, VOCAB, None)):
        with pytest.raises(TypeError, match="Generator"):
            call()


# ---- matching the t5 library (t5/data/preprocessors.py and its tests) ---------------------------

def test_bert_style_random_tokens_skip_pad_eos_unk():
    # t5's noise_token_to_random_token draws from [num_reserved_tokens=3, vocab_size)
    tokens = np.full(20000, 7)
    inputs, _ = bert_style(tokens, 10, np.random.default_rng(0), noise_density=0.9,
                           random_token_prob=1.0)
    replaced = inputs[:-1][inputs[:-1] != 7]
    assert replaced.size > 0 and replaced.min() >= 3 and replaced.max() <= 9
    assert set(replaced.tolist()) == {3, 4, 5, 6, 8, 9}


def test_iid_denoising_is_the_baseline_and_the_replace_spans_row():
    from minit5.data.objectives import iid_denoising
    tokens = np.arange(3, 103)
    a = iid_denoising(tokens, VOCAB, np.random.default_rng(4))
    b = iid_replace_spans(tokens, VOCAB, np.random.default_rng(4))
    assert [x.tolist() for x in a] == [x.tolist() for x in b]
    # each run of consecutive noise tokens is one sentinel (not spans of mean length 3)
    mask = iid_noise_mask(len(tokens), 0.15, np.random.default_rng(4))
    runs = int((mask & ~np.concatenate([[False], mask[:-1]])).sum())
    assert int((a[0] > VOCAB - 101).sum()) == runs


def test_span_corruption_passes_extra_ids_through():
    tokens = np.arange(3, 403)
    with pytest.raises(ValueError, match="sentinels"):
        span_corruption(tokens, VOCAB, np.random.default_rng(0), noise_density=0.5,
                        mean_noise_span_length=1.0, extra_ids=10)
    inputs, targets = span_corruption(tokens, 2000, np.random.default_rng(0), noise_density=0.5,
                                      mean_noise_span_length=1.0, extra_ids=1000)
    assert int((inputs >= 1000).sum()) == 200          # 200 spans, each its own sentinel
    assert inputs[inputs >= 1000].min() == 2000 - 200


def test_random_prefix_noise_mask_like_t5():
    from minit5.data.objectives import random_prefix_noise_mask
    for seed in range(100):                             # t5: first is noise, last is not
        mask = random_prefix_noise_mask(10, np.random.default_rng(seed))
        assert mask[0] and not mask[-1]
        assert mask.tolist() == sorted(mask.tolist(), reverse=True)   # a prefix
    with pytest.raises(ValueError, match="0.5"):
        random_prefix_noise_mask(10, np.random.default_rng(0), noise_density=0.6)
    # density 0.25: the prefix is at least round(0.5 * 9) = 4 (in 5) tokens long, at most 9
    lengths = {int(random_prefix_noise_mask(10, np.random.default_rng(s), 0.25).sum())
               for s in range(200)}
    assert lengths == set(range(4, 10))


def test_prefix_lm_like_t5():
    # t5's test_prefix_lm: inputs + targets give back the sequence, the split varies
    inp = list(range(1, 100))
    lengths = set()
    for seed in range(100):
        inputs, targets = prefix_lm(np.array(inp), np.random.default_rng(seed), eos_id=None)
        assert inputs.tolist() + targets.tolist() == inp
        lengths.add(len(inputs))
    assert len(lengths) > 1


def test_lm_has_empty_inputs():
    from minit5.data.objectives import lm
    inputs, targets = lm(np.array([5, 6, 7]))
    assert inputs.tolist() == [1] and targets.tolist() == [5, 6, 7, 1]
    inputs, targets = lm(np.array([5, 6, 7]), eos_id=None)
    assert inputs.tolist() == [] and targets.tolist() == [5, 6, 7]
