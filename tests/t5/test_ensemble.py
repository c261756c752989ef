"""T5Ensemble: the averaged, renormalised next-token distribution of its members (paper §3.6),
in rank classification and in greedy and beam search."""
import numpy as np
import pytest

from minit5.autograd.tensor import no_grad
from minit5.t5 import T5Config, T5ForConditionalGeneration
from minit5.t5.architectures import build_architecture
from minit5.t5.ensemble import T5Ensemble
from minit5.train.choice import option_log_likelihoods

CONFIG = dict(vocab_size=37, d_model=16, d_kv=4, d_ff=24, num_heads=2, num_layers=2,
              dropout_rate=0.0)


def model(seed, **changes):
    return T5ForConditionalGeneration(T5Config(**{**CONFIG, **changes}), seed=seed,
                                      dtype="float64").eval()


class Letters:
    """A stand-in tokenizer: one id per letter, then EOS (1)."""

    def encode(self, text):
        return np.array([3 + (ord(c) - ord("a")) % 30 for c in text] + [1], dtype=np.int64)


PAIRS = [("abc", "de"), ("abc", "fgh"), ("zyxw", "a"), ("zyxw", "bb")]
INPUTS = np.array([[5, 9, 12, 3, 1], [7, 7, 30, 1, 0]])
MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]])


def log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def test_an_ensemble_of_one_is_the_model():
    m = model(0)
    ensemble = T5Ensemble([m])
    for beams in (1, 3):
        np.testing.assert_array_equal(
            ensemble.generate(INPUTS, attention_mask=MASK, max_new_tokens=6, num_beams=beams),
            m.generate(INPUTS, attention_mask=MASK, max_new_tokens=6, num_beams=beams))
    np.testing.assert_allclose(option_log_likelihoods(ensemble, Letters(), PAIRS),
                               option_log_likelihoods(m, Letters(), PAIRS), rtol=0, atol=1e-12)


def test_identical_copies_predict_as_one_copy():
    one = model(3)
    copies = T5Ensemble([one, model(3), model(3)])
    for beams in (1, 2):
        np.testing.assert_array_equal(
            copies.generate(INPUTS, attention_mask=MASK, max_new_tokens=6, num_beams=beams),
            one.generate(INPUTS, attention_mask=MASK, max_new_tokens=6, num_beams=beams))
    np.testing.assert_allclose(option_log_likelihoods(copies, Letters(), PAIRS),
                               option_log_likelihoods(one, Letters(), PAIRS), rtol=0, atol=1e-12)


def test_the_distribution_is_the_softmax_of_the_averaged_logits_float64():
    members = [model(seed) for seed in (0, 1, 2)]
    labels = np.array([[4, 8, 1], [9, 1, -100]])
    with no_grad():
        logits = [m(input_ids=INPUTS, attention_mask=MASK, labels=labels).logits.numpy()
                  for m in members]                                         # 3 x (B, T, V)
        out = T5Ensemble(members)(input_ids=INPUTS, attention_mask=MASK, labels=labels)
    direct = log_softmax(np.mean(logits, axis=0))                          # (B, T, V)
    np.testing.assert_allclose(out.logits.numpy(), direct, rtol=0, atol=1e-12)
    # the same as renormalising the geometric mean of the members' probabilities
    geometric = np.exp(np.mean([log_softmax(z) for z in logits], axis=0))
    np.testing.assert_allclose(np.exp(direct), geometric / geometric.sum(-1, keepdims=True),
                               rtol=0, atol=1e-12)
    picked = np.take_along_axis(direct, np.maximum(labels, 0)[..., None], -1)[..., 0]
    assert float(out.loss.item()) == pytest.approx(-picked[labels >= 0].mean(), abs=1e-12)
    # and it is not the average of the probabilities (a different ensemble)
    arithmetic = np.mean([np.exp(log_softmax(z)) for z in logits], axis=0)
    assert np.abs(np.exp(direct) - arithmetic).max() > 1e-4


def test_greedy_search_follows_the_averaged_distribution_step_by_step():
    members = [model(seed) for seed in (0, 1)]
    ensemble = T5Ensemble(members)
    got = ensemble.generate(INPUTS, attention_mask=MASK, max_new_tokens=5, eos_token_id=None)
    sequences = np.zeros((2, 1), dtype=np.int64)
    with no_grad():
        for _ in range(5):
            z = [m(input_ids=INPUTS, attention_mask=MASK,
                   decoder_input_ids=sequences).logits.numpy()[:, -1] for m in members]
            step = log_softmax(np.mean(z, axis=0)).argmax(-1)
            sequences = np.concatenate([sequences, step[:, None]], axis=1)
    np.testing.assert_array_equal(got, sequences)


@pytest.mark.parametrize("beams", [1, 3])
def test_each_member_keeps_its_own_cache(beams):
    ensemble = T5Ensemble([model(0), model(1), model(2)])
    cached = ensemble.generate(INPUTS, attention_mask=MASK, max_new_tokens=7, num_beams=beams)
    recomputed = ensemble.generate(INPUTS, attention_mask=MASK, max_new_tokens=7,
                                   num_beams=beams, use_cache=False)
    np.testing.assert_array_equal(cached, recomputed)
    assert cached.shape[0] == 2 and cached[:, 0].tolist() == [0, 0]


def test_beam_search_runs_and_restores_the_members_modes():
    a, b = model(0), model(1)
    a.train()
    ensemble = T5Ensemble([a, b])
    out = ensemble.generate(INPUTS, attention_mask=MASK, max_new_tokens=4, num_beams=4,
                            length_penalty=0.6)
    assert out.dtype == np.int64 and out.shape[0] == 2 and 2 <= out.shape[1] <= 5
    assert a.training and not b.training


def test_members_must_agree():
    with pytest.raises(ValueError, match="at least one model"):
        T5Ensemble([])
    with pytest.raises(ValueError, match="vocab_size"):
        T5Ensemble([model(0), model(1, vocab_size=40)])
    with pytest.raises(ValueError, match="num_layers"):
        T5Ensemble([model(0), model(1, num_layers=3)])
    lm = build_architecture("language model", T5Config(**CONFIG))
    with pytest.raises(TypeError, match="encoder-decoder"):
        T5Ensemble([model(0), lm])
    T5Ensemble([model(0), model(1, dropout_rate=0.3)])        # dropout may differ
