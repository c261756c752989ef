"""Generation: the key/value cache changes nothing, outputs follow transformers' conventions,
beam search does what it is for, and bad arguments fail with errors that say what to do.

The comparison with transformers itself is in tests/golden/test_generation_golden.py.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minit5 import T5Config, T5ForConditionalGeneration, Tensor
from minit5.t5.generation import beam_search, generate, greedy_search

VOCAB = 24


def tiny_model(seed=0, gated=False, dtype="float64", eos_scale=3.0):
    """A random T5 small enough for many decodes.

    A freshly initialised T5 mostly repeats one token, so the weights are reshaped as in the
    golden fixtures: sharper attention (q, k, relative bias), stronger sub-layer outputs (o, wo)
    against the residual stream, a damped pad row and a boosted EOS row in the output embedding.
    """
    config = T5Config(vocab_size=VOCAB, d_model=16, d_kv=4, d_ff=24, num_heads=3, num_layers=2,
                      num_decoder_layers=1 if gated else 2, relative_attention_num_buckets=8,
                      relative_attention_max_distance=10, dropout_rate=0.1,
                      feed_forward_proj="gated-gelu" if gated else "relu",
                      tie_word_embeddings=not gated)
    model = T5ForConditionalGeneration(config, seed=seed, dtype=dtype)
    for name, p in model.named_parameters():
        if name.endswith((".o.weight", ".wo.weight")):
            p.data *= 4.0
        elif name.endswith((".q.weight", ".k.weight")):
            p.data *= 3.0
        elif name.endswith("relative_attention_bias.weight"):
            p.data *= 9.0
    head = model.shared if config.tie_word_embeddings else model.lm_head
    head.weight.data[0] *= 0.2
    head.weight.data[1] *= eos_scale
    return model


def padded_batch(rng, batch, length):
    ids = rng.integers(2, VOCAB, size=(batch, length))
    mask = np.ones_like(ids)
    for row in range(1, batch):                    # every row but the first may be shorter
        n = int(rng.integers(1, length + 1))
        ids[row, n:], mask[row, n:] = 0, 0
    return ids, mask


# ---- the cache is an optimisation only --------------------------------------------------------
@settings(max_examples=12)
@given(seed=st.integers(0, 2**16), batch=st.integers(1, 3), length=st.integers(1, 14),
       num_beams=st.integers(1, 4), max_new_tokens=st.integers(1, 14), gated=st.booleans(),
       early_stopping=st.sampled_from([False, True, "never"]),
       length_penalty=st.sampled_from([-1.0, 0.0, 0.6, 1.0, 2.0]))
def test_cache_gives_the_same_ids_as_recomputing(seed, batch, length, num_beams, max_new_tokens,
                                                 gated, early_stopping, length_penalty):
    # float64: the two paths round differently, and float64 makes a flipped near-tie impossible.
    model = tiny_model(seed % 7, gated)
    ids, mask = padded_batch(np.random.default_rng(seed), batch, length)
    options = dict(max_new_tokens=max_new_tokens, num_beams=num_beams,
                   early_stopping=early_stopping, length_penalty=length_penalty)
    cached = model.generate(ids, attention_mask=mask, use_cache=True, **options)
    recomputed = model.generate(ids, attention_mask=mask, use_cache=False, **options)
    np.testing.assert_array_equal(cached, recomputed)


@pytest.mark.parametrize("num_beams", [1, 3])
def test_cache_matches_in_float32_too(num_beams):
    model = tiny_model(1, gated=True, dtype="float32")
    ids, mask = padded_batch(np.random.default_rng(1), 3, 9)
    a = model.generate(ids, attention_mask=mask, num_beams=num_beams, use_cache=True)
    b = model.generate(ids, attention_mask=mask, num_beams=num_beams, use_cache=False)
    np.testing.assert_array_equal(a, b)


# ---- output conventions ----------------------------------------------------------------------
def test_greedy_output_shape_and_padding():
    model = tiny_model(3)
    ids, mask = padded_batch(np.random.default_rng(3), 3, 8)
    out = model.generate(ids, attention_mask=mask, max_new_tokens=12)
    assert out.dtype == np.int64 and out.ndim == 2 and out.shape[0] == 3
    assert 2 <= out.shape[1] <= 13
    assert (out[:, 0] == 0).all(), "every row starts with the decoder start token"
    ended = (out == 1).any(axis=1)
    assert ended.any(), "pick a model where some row reaches EOS, or the test checks nothing"
    for row in out:
        if (row == 1).any():
            eos = int(np.argmax(row == 1))
            assert (row[eos + 1:] == 0).all(), f"after EOS greedy pads with 0: {row}"
    if ended.all():
        # The loop stops as soon as every row has ended: the longest row ends in EOS.
        assert (out[:, -1] == 1).any()


def test_greedy_runs_to_the_limit_without_eos():
    model = tiny_model(3)
    ids, _ = padded_batch(np.random.default_rng(3), 2, 5)
    out = model.generate(ids, max_new_tokens=7, eos_token_id=None)
    assert out.shape == (2, 8)


def test_custom_start_and_pad_ids():
    model = tiny_model(3)
    ids, mask = padded_batch(np.random.default_rng(3), 3, 8)
    out = model.generate(ids, attention_mask=mask, max_new_tokens=12, pad_token_id=5)
    ended = [row for row in out if (row[1:] == 1).any()]
    assert ended and any(row[-1] != 1 for row in ended), "need a row that ends early"
    for row in ended:
        eos = 1 + int(np.argmax(row[1:] == 1))
        assert (row[eos + 1:] == 5).all()
    out = model.generate(ids, attention_mask=mask, max_new_tokens=3, decoder_start_token_id=4)
    assert (out[:, 0] == 4).all()


def test_beam_output_is_filled_like_transformers():
    """transformers 5 fills beam outputs with `pad_token_id or eos_token_id`: EOS for T5."""
    model = tiny_model(2)
    ids, mask = padded_batch(np.random.default_rng(2), 3, 8)
    for pad, fill in ((0, 1), (7, 7)):
        out = model.generate(ids, attention_mask=mask, max_new_tokens=12, num_beams=3,
                             pad_token_id=pad)
        assert (out[:, 0] == 0).all() and out.shape[1] <= 13
        assert any(1 in row[1:-1] for row in out), "need a row that ends early"
        for row in out:
            if (row[1:] == 1).any():
                eos = 1 + int(np.argmax(row[1:] == 1))
                assert (row[eos + 1:] == fill).all(), f"pad {pad}: {row}"


def test_model_generate_delegates_and_restores_training_mode():
    model = tiny_model(5)                           # fresh models start in training mode
    ids, mask = padded_batch(np.random.default_rng(5), 2, 6)
    out = model.generate(ids, attention_mask=mask, max_new_tokens=6)
    assert model.training and all(m.training for m in model.modules())
    # Dropout (rate 0.1 here) is off while decoding, so the result is the eval-mode result.
    np.testing.assert_array_equal(out, generate(model.eval(), ids, attention_mask=mask,
                                                max_new_tokens=6))


def test_a_batch_decodes_each_row_as_if_alone():
    """Padding one row must not change another row's output (the masks do their job)."""
    model = tiny_model(3)
    ids, mask = padded_batch(np.random.default_rng(3), 3, 10)
    together = model.generate(ids, attention_mask=mask, max_new_tokens=8, num_beams=2)
    for row in range(3):
        n = int(mask[row].sum())
        alone = model.generate(ids[row:row + 1, :n], max_new_tokens=8, num_beams=2)
        width = alone.shape[1]
        np.testing.assert_array_equal(together[row, :width], alone[0])
        assert (together[row, width:] == 1).all()


# ---- beam search on a made-up distribution ----------------------------------------------------
class ScriptedDecoder:
    """A stand-in for StepDecoder: next-token probabilities looked up from the last token.

    Token 2 is the best first token (0.6 vs 0.4 for token 3), but after it nothing is likely
    (0.3 at best), while token 3 is followed by token 4 with probability 0.9; everything ends
    with EOS (1) afterwards. Greedy takes 2 (0.6 * 0.3 = 0.18); beam search finds 3, 4
    (0.4 * 0.9 = 0.36).
    """

    table = {0: {2: 0.6, 3: 0.4}, 2: {5: 0.3, 6: 0.3, 7: 0.2, 1: 0.2}, 3: {4: 0.9, 1: 0.1},
             4: {1: 1.0}, 5: {1: 1.0}, 6: {1: 1.0}, 7: {1: 1.0}, 1: {1: 1.0}}

    def next_token_logits(self, sequences):
        probs = np.full((len(sequences), 8), 1e-12)
        for i, last in enumerate(sequences[:, -1]):
            for token, p in self.table[int(last)].items():
                probs[i, token] = p
        return Tensor(np.log(probs))

    def keep_rows(self, rows):
        pass


def test_beam_search_finds_what_greedy_misses():
    greedy = greedy_search(ScriptedDecoder(), 1, 5, eos_token_id=1, pad_token_id=0,
                           decoder_start_token_id=0)
    beams = beam_search(ScriptedDecoder(), 1, 2, 5, length_penalty=1.0, early_stopping=False,
                        eos_token_id=1, pad_token_id=0, decoder_start_token_id=0)
    assert greedy.tolist() == [[0, 2, 5, 1]]
    assert beams.tolist() == [[0, 3, 4, 1]]


# ---- argument errors -------------------------------------------------------------------------
@pytest.mark.parametrize("options, error, words", [
    (dict(max_new_tokens=0), ValueError, "max_new_tokens must be at least 1"),
    (dict(max_new_tokens=2.5), TypeError, "max_new_tokens must be an int"),
    (dict(max_new_tokens=True), TypeError, "max_new_tokens must be an int"),
    (dict(num_beams=0), ValueError, "num_beams must be at least 1"),
    (dict(length_penalty=float("nan")), ValueError, "length_penalty must be a finite number"),
    (dict(length_penalty="long"), ValueError, "length_penalty"),
    (dict(early_stopping="sometimes"), ValueError, "True, False or 'never'"),
    (dict(eos_token_id=VOCAB), ValueError, "outside the model's vocabulary"),
    (dict(pad_token_id=-1), ValueError, "outside the model's vocabulary"),
    (dict(decoder_start_token_id="0"), TypeError, "token id"),
    (dict(use_cache="yes"), TypeError, "use_cache must be True or False"),
])
def test_bad_arguments_say_what_is_wrong(options, error, words):
    model = tiny_model()
    with pytest.raises(error, match=words.replace("(", r"\(")):
        model.generate(np.array([[5, 6, 1]]), **options)


@pytest.mark.parametrize("ids, mask, words", [
    (np.array([5, 6, 1]), None, "must be 2-D"),
    (np.array([[5.0, 6.0, 1.0]]), None, "integer token ids"),
    (np.array([[5, 6, VOCAB]]), None, "outside"),
    (np.array([[5, 6, 1]]), np.array([[1, 1]]), "attention_mask has shape"),
])
def test_bad_inputs_say_what_is_wrong(ids, mask, words):
    with pytest.raises((ValueError, TypeError), match=words):
        tiny_model().generate(ids, attention_mask=mask)


# ---- beam top-k: found on the device, only the winners come to the host ------------------------
def test_top_candidates_are_the_largest_best_first_with_ties_to_the_lower_index():
    from minit5.t5.generation import top_candidates
    scores = np.array([[0.5, 2.0, -1.0, 2.0, 0.7, 3.0],
                       [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]])
    index, value = top_candidates(scores, 3)
    assert index.tolist() == [[5, 1, 3], [0, 1, 2]]
    assert value.tolist() == [[3.0, 2.0, 2.0], [1.0, 1.0, 1.0]]
    rng = np.random.default_rng(0)
    many = rng.normal(size=(4, 200))
    index, value = top_candidates(many, 8)
    for row in range(4):
        assert index[row].tolist() == np.argsort(-many[row], kind="stable")[:8].tolist()
        np.testing.assert_array_equal(value[row], many[row, index[row]])


@pytest.mark.parametrize("gated", [False, True], ids=["tied v1.0", "untied v1.1"])
def test_decoding_reads_a_transposed_copy_of_the_output_weight_and_gets_the_same_logits(gated):
    """StepDecoder keeps output_weight^T once (a CPU reads it faster for a few rows); its
    logits equal decode()'s through the model's own weight, tied (rescaled) or untied."""
    from minit5.t5.step_decoder import StepDecoder
    model = tiny_model(gated=gated).eval()
    ids = np.array([[3, 4, 5, 1], [6, 7, 1, 0]])
    mask = (ids != 0).astype(np.int64)
    encoder_hidden = model.encoder(ids, mask)
    sequences = np.array([[0, 5, 9], [0, 2, 2]])
    step = StepDecoder(model, encoder_hidden, mask, use_cache=False)
    assert step.output_weight_t.shape == model.output_weight.shape[::-1]
    expected = model.decode(sequences, encoder_hidden, attention_mask=mask).data[:, -1]
    np.testing.assert_allclose(step.next_token_logits(sequences).data, expected, rtol=1e-12,
                               atol=1e-12)
    assert model.output_weight is (model.lm_head.weight if gated else model.shared.weight)
