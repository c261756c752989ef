"""The reference solutions added for the reworked exercises (issue 29), checked by what defines
them rather than against themselves: each inverts a function the library already has.

restore_noise_spans undoes iid_denoising and span_corruption; temperature_for_rate gives back
the share mixing_rates makes; alpha_for_max_epochs gives back the bound language_epochs counts;
tie_word_embeddings undoes untie_word_embeddings with the same logits.
"""
import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minit5 import T5Config, T5ForConditionalGeneration
from minit5.data.mixing import mixing_rates, temperature_for_rate
from minit5.data.objectives import iid_denoising, restore_noise_spans, span_corruption
from minit5.reference.language_sampling import alpha_for_max_epochs, language_epochs
from minit5.reference.untie import tie_word_embeddings, untie_word_embeddings


@given(st.integers(0, 60), st.floats(0.0, 1.0), st.integers(0, 2**32 - 1),
       st.sampled_from([104, 32_100]), st.sampled_from([1, 0]))
def test_restore_noise_spans_undoes_iid_denoising(n, density, seed, vocab, eos):
    tokens = np.random.default_rng(seed).integers(3, vocab - 100, size=n)
    inputs, targets = iid_denoising(tokens, vocab, np.random.default_rng(seed + 1), density,
                                    eos_id=eos)
    restored = restore_noise_spans(inputs, targets, vocab, eos_id=eos)
    assert restored.dtype == np.int64 and np.array_equal(restored, tokens)


@given(st.integers(4, 80), st.floats(0.05, 0.6), st.integers(0, 2**32 - 1))
def test_restore_noise_spans_undoes_span_corruption(n, density, seed):
    tokens = np.random.default_rng(seed).integers(3, 200, size=n)
    inputs, targets = span_corruption(tokens, 300, np.random.default_rng(seed + 1), density)
    assert np.array_equal(restore_noise_spans(inputs, targets, 300), tokens)


@pytest.mark.parametrize("inputs, targets", [([5, 199, 8, 198, 1], [199, 6, 1]),
                                             ([5, 8, 1], [199, 6, 198, 1]),
                                             ([5, 199, 8], [199, 6, 198, 1])])
def test_restore_noise_spans_refuses_a_broken_pair(inputs, targets):
    with pytest.raises(ValueError):
        restore_noise_spans(np.array(inputs), np.array(targets), 200)


@given(st.lists(st.integers(1, 10**9), min_size=2, max_size=6),
       st.one_of(st.none(), st.integers(1, 10**9)), st.floats(1e-6, 1 - 1e-6))
def test_temperature_for_rate_gives_the_rate(values, K, where):
    sizes = {f"t{i}": v for i, v in enumerate(values)}
    capped = np.array([v if K is None else min(v, K) for v in values])
    tied = int((capped == capped.max()).sum())
    if tied == len(capped):
        with pytest.raises(ValueError):
            temperature_for_rate(sizes, 1 / len(capped), K=K)
        return
    rate = 1 / len(capped) + where * (1 / tied - 1 / len(capped))
    T = temperature_for_rate(sizes, rate, K=K)
    rates = mixing_rates(sizes, "temperature", K=K, temperature=T)
    assert T > 0
    assert rates[f"t{int(np.argmax(capped))}"] == pytest.approx(rate, rel=1e-9)


def test_temperature_for_rate_refuses_unreachable_rates():
    for rate in (0.5, 0.3, 1.0):          # 1 / M, below it, and the T -> 0 limit
        with pytest.raises(ValueError):
            temperature_for_rate({"a": 10, "b": 5}, rate)


@given(st.lists(st.integers(1, 10**9), min_size=1, max_size=6), st.integers(1, 10**13),
       st.floats(1e-6, 1 - 1e-6))
def test_alpha_for_max_epochs_gives_the_bound(values, total, where):
    sizes = {f"l{i}": v for i, v in enumerate(values)}
    low = max(language_epochs(sizes, total, 1.0).values())
    high = total / (len(values) * min(values))                # alpha = 0: equal sampling
    bound = low + where * (high - low)
    alpha = alpha_for_max_epochs(sizes, total, bound)
    if high <= bound:
        assert alpha == 0.0
    else:
        assert 0 < alpha <= 1
        assert max(language_epochs(sizes, total, alpha).values()) == pytest.approx(bound,
                                                                                  rel=1e-9)


def test_alpha_for_max_epochs_refuses_a_run_too_long_for_the_data():
    with pytest.raises(ValueError):
        alpha_for_max_epochs({"en": 10, "yo": 1}, 1000, 5)


@pytest.mark.parametrize("scale", [None, False])
def test_tie_word_embeddings_undoes_untying(scale):
    config = T5Config(vocab_size=30, d_model=8, d_kv=2, d_ff=8, num_heads=2, num_layers=1,
                      dropout_rate=0.0, scale_decoder_outputs=scale)
    tied = T5ForConditionalGeneration(config, seed=0, dtype="float64")
    state = dict(tied.state_dict())
    if scale is None:
        untied_state, untied_config = untie_word_embeddings(state, config)
    else:                                   # a tied head without scaling: the head is E
        untied_state = {**state, "lm_head.weight": state["shared.weight"].copy()}
        untied_config = dataclasses.replace(config, tie_word_embeddings=False,
                                            scale_decoder_outputs=None)
    new_state, new_config = tie_word_embeddings(untied_state, untied_config)
    assert new_config == config and set(new_state) == set(state)
    again = T5ForConditionalGeneration(new_config, seed=1, dtype="float64")
    again.load_state_dict(new_state)
    ids = np.random.default_rng(0).integers(2, 30, size=(2, 5))
    labels = np.random.default_rng(1).integers(2, 30, size=(2, 3))
    np.testing.assert_allclose(again(input_ids=ids, labels=labels).logits.numpy(),
                               tied(input_ids=ids, labels=labels).logits.numpy(), rtol=1e-12)


def test_tie_word_embeddings_refuses_a_moved_head():
    config = T5Config(vocab_size=30, d_model=8, d_kv=2, d_ff=8, num_heads=2, num_layers=1)
    state, untied = untie_word_embeddings(
        dict(T5ForConditionalGeneration(config, seed=0).state_dict()), config)
    state["lm_head.weight"] = state["lm_head.weight"] * 1.01
    with pytest.raises(ValueError, match="moved"):
        tie_word_embeddings(state, untied)
