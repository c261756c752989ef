"""Graders for chapter 13 (scaling): each compares the student's function with the library's
(`minit5.train.distributed.token_shares` and `Communicator.reduce_gradients`,
`minit5.t5.counting.layers_for_parameters`, and an ensemble's target log-likelihood from
`minit5.t5.ensemble.average_log_probs` and `minit5.train.choice.sequence_log_likelihoods`)."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import (
    check,
    check_array,
    check_dtype,
    check_equal,
    check_raises,
    mistake_hint,
)
from minit5.t5.config import T5Config

data_parallel_gradients = exercise("13.1")
layers_for_parameters = exercise("13.2")
ensemble_log_likelihoods = exercise("13.3")

seeds = st.integers(0, 2**32 - 1)


# ---- 13.1 the batch's gradient from the ranks' gradients ----------------------------------------

def _scored_per_row(labels):
    return (labels != -100).sum(axis=1).astype(np.float64)


def _blocks(rows, size):
    return [slice(rows * r // size, rows * (r + 1) // size) for r in range(size)]


def _combine(rank_grads, weights, none_if_any=False):
    out = []
    for i in range(len(rank_grads[0])):
        have = [(w, g[i]) for w, g in zip(weights, rank_grads) if g[i] is not None]
        if not have or (none_if_any and len(have) < len(rank_grads)):
            out.append(None)
            continue
        dtype = np.asarray(have[0][1]).dtype
        out.append(sum(np.asarray(g, dtype=dtype) * dtype.type(w) for w, g in have))
    return out


def gradients_mistakes(rank_grads, labels):
    size, rows = len(rank_grads), len(labels)
    scored = _scored_per_row(labels)
    total = scored.sum()
    per_rank = np.array([scored[s].sum() for s in _blocks(rows, size)])
    right = per_rank / total if total else np.zeros(size)
    strided = np.array([scored[r::size].sum() for r in range(size)])
    positions = np.array([labels[s].size for s in _blocks(rows, size)], dtype=np.float64)
    return [("the mean of the ranks' gradients (equal weights 1 / N)",
             lambda: _combine(rank_grads, np.full(size, 1.0 / size))),
            ("the plain sum of the ranks' gradients (no weights)",
             lambda: _combine(rank_grads, np.ones(size))),
            ("weighting each rank by its share of the rows, not of the scored tokens",
             lambda: _combine(rank_grads, np.array([len(range(rows)[s]) / rows
                                                    for s in _blocks(rows, size)]))),
            ("counting every position, padding (-100) included",
             lambda: _combine(rank_grads, positions / positions.sum())),
            ("rows dealt out round-robin (rank r: rows r, r + N, ...), not in contiguous blocks",
             lambda: _combine(rank_grads, strided / total if total else np.zeros(size))),
            ("None for a parameter that some rank (not every rank) has no gradient for",
             lambda: _combine(rank_grads, right, none_if_any=True))]


GRADIENTS_HINT = ("check each rank's weight (a rank's gradient is that of the mean over its "
                  "own scored tokens, its rows a contiguous block), a rank that has no "
                  "gradient for a parameter, a parameter no rank has, and a rank or batch that "
                  "scores no token")


def _same_gradients(got, expected):
    try:
        return len(got) == len(expected) and all(
            (g is None and e is None) or (g is not None and e is not None and np.shape(g) ==
                                          np.shape(e) and np.allclose(g, e, rtol=1e-5,
                                                                      atol=1e-7))
            for g, e in zip(got, expected))
    except (TypeError, ValueError):
        return False


def grade_gradients(rank_grads, labels):
    __tracebackhide__ = True
    expected = reference("13.1")(rank_grads, labels)
    got = data_parallel_gradients(rank_grads, labels)
    inputs = {"rank_grads": f"{len(rank_grads)} ranks of {len(expected)} gradients",
              "labels": labels}
    hint = GRADIENTS_HINT
    if not _same_gradients(got, expected):
        hint = mistake_hint(got, gradients_mistakes(rank_grads, labels), hint, _same_gradients)
    check(isinstance(got, (list, tuple)) and len(got) == len(expected),
          f"data_parallel_gradients must return a list of {len(expected)} entries, one per "
          f"parameter, got {type(got).__name__}"
          + (f" of {len(got)}" if isinstance(got, (list, tuple)) else ""), hint)
    for i, (g, e) in enumerate(zip(got, expected)):
        what = f"the gradient of parameter {i}"
        if e is None:
            check(g is None, f"data_parallel_gradients: {what} must stay None (no rank has "
                  "one), got an array", hint, expected=None, got=g)
            continue
        check(g is not None, f"data_parallel_gradients: {what} is None although some rank has "
              "one", hint, expected=e, got=None)
        check_array("data_parallel_gradients", g, e, hint, inputs, what=what,
                    check_dtype=True, rtol=1e-5 if e.dtype == np.float32 else 1e-12,
                    atol=1e-6 if e.dtype == np.float32 else 1e-14)


@st.composite
def gradients_case(draw):
    rng = np.random.default_rng(draw(seeds))
    size = draw(st.integers(1, 6))
    rows = draw(st.integers(size, 16))
    length = draw(st.integers(1, 8))
    labels = rng.integers(0, 50, size=(rows, length))
    scored = rng.integers(0, length + 1, size=rows)                    # per row, padded right
    labels[np.arange(length)[None, :] >= scored[:, None]] = -100
    if draw(st.booleans()):                        # the first rank's rows score no token
        labels[_blocks(rows, size)[0]] = -100
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shapes = [tuple(int(d) for d in rng.integers(1, 5, size=rng.integers(0, 4)))
              for _ in range(draw(st.integers(1, 5)))]
    missing = draw(st.sampled_from(["none", "some ranks", "every rank"]))
    rank_grads = []
    for r in range(size):
        grads = [rng.normal(size=shape).astype(dtype) for shape in shapes]
        if missing == "some ranks" and rng.random() < 0.5:
            grads[int(rng.integers(len(grads)))] = None
        if missing == "every rank":
            grads[-1] = None
        rank_grads.append(grads)
    return rank_grads, labels


@pytest.mark.ex13_1
@given(gradients_case())
def test_data_parallel_gradients_match_library(case):
    grade_gradients(*case)


def _worked_labels():
    labels = np.full((5, 4), -100)
    for row, n in enumerate([1, 4, 0, 2, 3]):
        labels[row, :n] = 7
    return labels


@pytest.mark.ex13_1
@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_data_parallel_gradients_worked_cases(size):
    rng = np.random.default_rng(size)
    grads = [[rng.normal(size=(3, 2)), None if r == 0 else rng.normal(size=(4,)), None]
             for r in range(size)]
    grade_gradients(grads, _worked_labels())
    grade_gradients(grads, np.full((5, 2), -100))          # nothing scored: zeros, None kept
    grade_gradients(grads, np.full((5, 6), 9))             # no padding: the rows' shares
    labels = _worked_labels()
    labels[_blocks(5, size)[-1]] = -100                    # the last rank scores no token
    grade_gradients([[g if g is None else g.astype(np.float32) for g in gs] for gs in grads],
                    labels)


@pytest.mark.ex13_1
@pytest.mark.parametrize("rank_grads, rows, problem", [
    ([[np.ones(2)]] * 3, 2, "a batch of 2 rows shared by 3 ranks"),
    ([[np.ones(2), np.ones(3)], [np.ones(2)]], 4, "ranks listing different numbers of "
                                                   "parameters"),
    ([[np.ones(2)], [np.ones(3)]], 4, "one parameter of shape (2,) and (3,) on two ranks")])
def test_data_parallel_gradients_refuse_bad_input(rank_grads, rows, problem):
    labels = np.ones((rows, 3), dtype=np.int64)
    check_raises(ValueError, lambda: data_parallel_gradients(rank_grads, labels),
                 f"data_parallel_gradients with {problem}",
                 "every rank needs at least one row and the ranks must hold the same "
                 "parameters; raise a ValueError that says which and how to fix it")


# ---- 13.2 the depth of a 2x or 4x model ----------------------------------------------------------

def _count(config, layers):
    return dataclasses.replace(config, num_layers=layers, num_decoder_layers=layers) \
        .num_parameters()


def _nearest_depth(fixed, per_layer, target, limit=10_000):
    """The depth n >= 1 (the smaller on a tie) nearest target for a count fixed + per_layer n."""
    best = max(1, min(limit, int(np.floor((target - fixed) / per_layer))))
    candidates = [n for n in (best - 1, best, best + 1, best + 2) if n >= 1]
    return min(candidates, key=lambda n: (abs(fixed + per_layer * n - target), n))


def depth_mistakes(config, multiple):
    base = config.num_parameters()
    per_layer = _count(config, 2) - _count(config, 1)                 # both stacks, one block
    fixed = _count(config, 1) - per_layer                             # embedding, tables, norms
    encoder_block = dataclasses.replace(config, num_layers=2).num_parameters() - \
        dataclasses.replace(config, num_layers=1).num_parameters()
    encoder_fixed = config.num_parameters() - encoder_block * config.num_layers
    layer_part = base - fixed
    return [("multiplying the number of layers by `multiple` (the embedding does not grow)",
             lambda: max(1, int(round(multiple * config.num_layers)))),
            ("counting the parameters of the layers only, without the embedding",
             lambda: _nearest_depth(0, per_layer, multiple * layer_part)),
            ("rounding down to the deepest model that is not bigger than the target",
             lambda: max(1, int(np.floor((multiple * base - fixed) / per_layer)))),
            ("growing only the encoder",
             lambda: _nearest_depth(encoder_fixed, encoder_block, multiple * base))]


DEPTH_HINT = ("count the parameters of the whole model at each depth (the shared embedding and "
              "the first blocks' position tables stay whatever the depth) and keep the depth "
              "whose count is closest to multiple x the base's, the smaller one on a tie")


@st.composite
def depth_case(draw):
    heads = draw(st.integers(1, 8))
    config = T5Config(vocab_size=draw(st.sampled_from([64, 300, 2100, 32128])),
                      d_model=draw(st.sampled_from([16, 32, 64, 128])),
                      d_kv=draw(st.sampled_from([4, 8, 16])), num_heads=heads,
                      d_ff=draw(st.sampled_from([32, 128, 512])),
                      num_layers=draw(st.integers(1, 6)),
                      num_decoder_layers=draw(st.integers(1, 6)),
                      feed_forward_proj=draw(st.sampled_from(["relu", "gated-gelu",
                                                              "gated-silu", "gelu"])),
                      tie_word_embeddings=draw(st.booleans()),
                      adapter_dim=draw(st.one_of(st.none(), st.sampled_from([4, 32]))))
    return config, draw(st.floats(0.1, 8.0))


def grade_depth(config, multiple):
    __tracebackhide__ = True
    expected = reference("13.2")(config, multiple)
    got = layers_for_parameters(config, multiple)
    inputs = {"config": config, "multiple": multiple}
    check(isinstance(got, (int, np.integer)) and not isinstance(got, bool),
          f"layers_for_parameters must return an int, got {type(got).__name__} {got!r}",
          DEPTH_HINT, expected=expected, got=got)
    check_equal("layers_for_parameters", int(got), int(expected), DEPTH_HINT, inputs,
                mistakes=depth_mistakes(config, multiple))


@pytest.mark.ex13_2
@given(depth_case())
def test_layers_for_parameters_match_library(case):
    grade_depth(*case)


@pytest.mark.ex13_2
@pytest.mark.parametrize("preset", ["t5-small", "t5-base", "t5-v1_1-small"])
@pytest.mark.parametrize("multiple", [0.5, 1.0, 2.0, 4.0])
def test_layers_for_parameters_of_released_shapes(preset, multiple):
    grade_depth(T5Config.preset(preset), multiple)


@pytest.mark.ex13_2
def test_layers_for_parameters_of_the_miniatures_tiny_model():
    tiny = T5Config(vocab_size=2100, d_model=128, d_kv=32, d_ff=512, num_heads=4,
                    num_layers=2, feed_forward_proj="relu")
    for multiple in (2, 4):
        grade_depth(tiny, multiple)


@pytest.mark.ex13_2
@pytest.mark.parametrize("multiple", [0, -1.0])
def test_layers_for_parameters_refuse_a_multiple_that_is_not_positive(multiple):
    config = T5Config(vocab_size=64, d_model=16, d_kv=4, d_ff=32, num_heads=2, num_layers=1)
    check_raises(ValueError, lambda: layers_for_parameters(config, multiple),
                 f"layers_for_parameters(config, {multiple!r})",
                 "no model has zero or fewer times the parameters of another: raise ValueError "
                 "naming `multiple` and what it must be")


# ---- 13.3 an ensemble's target log-likelihood ---------------------------------------------------

def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _picked(log_probs, labels):
    scored = labels != -100
    picked = np.take_along_axis(log_probs, np.where(scored, labels, 0)[..., None],
                                axis=-1)[..., 0]
    return (picked * scored).sum(axis=-1)


def ensemble_mistakes(member_logits, labels):
    z = np.asarray(member_logits, dtype=np.float64)
    log_probs = _log_softmax(z)                                         # (M, B, T, V)
    return [("the mean of the members' own target log-likelihoods (averaging whole sequences, "
             "not next-token distributions)",
             lambda: _picked(log_probs, labels[None]).mean(axis=0)),
            ("averaging the members' probabilities (a mixture) instead of their "
             "log-probabilities", lambda: _picked(np.log(np.exp(log_probs).mean(axis=0)),
                                                  labels)),
            ("the averaged log-probabilities without renormalising them",
             lambda: _picked(log_probs.mean(axis=0), labels)),
            ("summing the members' log-probabilities instead of averaging them",
             lambda: _picked(_log_softmax(log_probs.sum(axis=0)), labels)),
            ("scoring the padded positions (-100) too",
             lambda: _log_softmax(log_probs.mean(axis=0))[..., 0].sum(axis=-1)),
            ("member 0 alone", lambda: _picked(log_probs[0], labels))]


ENSEMBLE_HINT = ("at every position the ensemble has one next-token distribution, made from "
                 "the members' distributions as the chapter's greedy search makes it; a "
                 "target's log-likelihood sums that distribution's log-probability of the "
                 "label over the scored positions only")


@st.composite
def ensemble_case(draw):
    rng = np.random.default_rng(draw(seeds))
    members, rows = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    length, vocab = draw(st.integers(1, 8)), draw(st.integers(2, 30))
    # Up to logits of several thousand: exp overflows in a naive softmax (exp(89) in
    # float32, exp(710) in float64) and a label's probability underflows to 0.
    scale = draw(st.sampled_from([0.1, 1.0, 5.0, 100.0, 3000.0]))
    logits = rng.normal(size=(members, rows, length, vocab)) * scale
    logits += rng.normal(size=(members, 1, 1, 1)) * draw(st.sampled_from([10.0, 1000.0]))
    labels = rng.integers(0, vocab, size=(rows, length))
    scored = rng.integers(0, length + 1, size=rows)
    labels[np.arange(length)[None, :] >= scored[:, None]] = -100
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    return logits.astype(dtype), labels


def grade_ensemble(member_logits, labels):
    __tracebackhide__ = True
    expected = reference("13.3")(member_logits, labels)
    got = ensemble_log_likelihoods(member_logits, labels)
    tolerance = 1e-9 if member_logits.dtype == np.float64 else 1e-4
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        mistakes = ensemble_mistakes(member_logits, labels)
    check_array("ensemble_log_likelihoods", got, expected, ENSEMBLE_HINT,
                {"member_logits": member_logits, "labels": labels}, rtol=tolerance,
                atol=tolerance * max(1.0, float(np.abs(expected).max(initial=0.0))),
                what="the log-likelihoods", mistakes=mistakes)
    check_dtype("ensemble_log_likelihoods", got, np.float64, "return float64 log-likelihoods, "
                "as the docstring says, whatever the logits' dtype")


# Pinned: logits so large that exp overflows in float32 and float64 and the labels'
# probabilities underflow to 0 (a naive softmax gives nan or -inf), in both dtypes.
@pytest.mark.ex13_3
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scale", [100.0, 1000.0, 1e4])
def test_ensemble_of_huge_logits(dtype, scale):
    rng = np.random.default_rng(5)
    logits = (rng.normal(size=(3, 2, 4, 7)) * scale).astype(dtype)
    labels = rng.integers(0, 7, size=(2, 4))
    labels[1, 3] = -100
    grade_ensemble(logits, labels)


@pytest.mark.ex13_3
@given(ensemble_case())
def test_ensemble_log_likelihoods_match_library(case):
    grade_ensemble(*case)


@pytest.mark.ex13_3
def test_an_ensemble_of_one_is_the_model():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(1, 4, 5, 11))
    labels = rng.integers(0, 11, size=(4, 5))
    labels[0, 2:] = -100
    grade_ensemble(logits, labels)


@pytest.mark.ex13_3
def test_identical_members_are_one_model():
    rng = np.random.default_rng(4)
    one = rng.normal(size=(1, 3, 6, 9))
    labels = rng.integers(0, 9, size=(3, 6))
    grade_ensemble(np.concatenate([one, one + 2.5, one - 7.0]), labels)  # offsets: same p
