"""Graders for chapter 13 (scaling): each compares the student's function with the library's
(`minit5.train.distributed.token_shares`, `minit5.t5.counting.layers_for_parameters`, and an
ensemble's target log-likelihood from `minit5.t5.ensemble.average_log_probs` and
`minit5.experiments.choice.sequence_log_likelihoods`)."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check, check_array, check_equal, check_raises
from minit5.t5.config import T5Config

token_shares = exercise("13.1")
layers_for_parameters = exercise("13.2")
ensemble_log_likelihoods = exercise("13.3")

seeds = st.integers(0, 2**32 - 1)


# ---- 13.1 the ranks' loss weights ---------------------------------------------------------------

def _scored_per_row(labels):
    return (labels != -100).sum(axis=1).astype(np.float64)


def _blocks(rows, size):
    return [slice(rows * r // size, rows * (r + 1) // size) for r in range(size)]


def shares_mistakes(labels, size):
    scored = _scored_per_row(labels)
    total = scored.sum()
    rows = len(labels)
    per_rank = np.array([scored[s].sum() for s in _blocks(rows, size)])
    strided = np.array([scored[r::size].sum() for r in range(size)])
    positions = np.array([labels[s].size for s in _blocks(rows, size)], dtype=np.float64)
    return [("equal weights 1 / N (the mean of the ranks' means)", np.full(size, 1.0 / size)),
            ("each rank's share of the rows, not of the scored tokens",
             np.array([len(range(rows)[s]) / rows for s in _blocks(rows, size)])),
            ("counting every position, padding (-100) included",
             positions / positions.sum()),
            ("the ranks' token counts, not divided by the batch's",
             per_rank),
            ("rows dealt out round-robin (rank r: rows r, r + N, ...), not in contiguous blocks",
             strided / total if total else np.zeros(size)),
            ("the inverse share n / n_r", np.where(per_rank > 0, total / np.maximum(per_rank, 1),
                                                   0.0))]


SHARES_HINT = ("a rank's mean is its summed loss over its own scored tokens divided by their "
               "number; weight it so that the ranks' sums add up to the batch's sum divided by "
               "the batch's number of scored tokens, with the rows split in contiguous blocks")


@st.composite
def labels_case(draw):
    rng = np.random.default_rng(draw(seeds))
    size = draw(st.integers(1, 8))
    rows = draw(st.integers(size, 24))
    length = draw(st.integers(1, 12))
    labels = rng.integers(0, 50, size=(rows, length))
    scored = rng.integers(0, length + 1, size=rows)                    # per row, padded right
    labels[np.arange(length)[None, :] >= scored[:, None]] = -100
    return labels, size


def grade_shares(labels, size):
    __tracebackhide__ = True
    expected = reference("13.1")(labels, size)
    got = token_shares(labels, size)
    check_array("token_shares", got, expected, SHARES_HINT, {"labels": labels, "size": size},
                rtol=1e-12, atol=1e-12, what="the weights",
                mistakes=shares_mistakes(labels, size))


@pytest.mark.ex13_1
@given(labels_case())
def test_token_shares_match_library(case):
    grade_shares(*case)


@pytest.mark.ex13_1
def test_token_shares_worked_cases():
    labels = np.full((5, 4), -100)
    for row, n in enumerate([1, 4, 0, 2, 3]):
        labels[row, :n] = 7
    for size in (1, 2, 3, 5):
        grade_shares(labels, size)
    grade_shares(np.full((3, 2), -100), 2)                # nothing scored: all zeros
    grade_shares(np.full((4, 6), 9), 4)                   # no padding: the rows' shares


@pytest.mark.ex13_1
def test_token_shares_refuse_more_ranks_than_rows():
    labels = np.ones((2, 3), dtype=np.int64)
    check_raises(ValueError, lambda: token_shares(labels, 3),
                 "token_shares(labels with 2 rows, size=3)",
                 "with fewer rows than ranks some rank has no row at all; raise a ValueError that "
                 "says so and how to fix it (a bigger batch or fewer processes)")


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
                      feed_forward_proj=draw(st.sampled_from(["relu", "gated-gelu"])),
                      tie_word_embeddings=draw(st.booleans()))
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
    scale = draw(st.sampled_from([0.1, 1.0, 5.0]))
    logits = rng.normal(size=(members, rows, length, vocab)) * scale
    logits += rng.normal(size=(members, 1, 1, 1)) * 10                  # members' offsets
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
    check_array("ensemble_log_likelihoods", got, expected, ENSEMBLE_HINT,
                {"member_logits": member_logits, "labels": labels}, rtol=tolerance,
                atol=tolerance, what="the log-likelihoods",
                mistakes=ensemble_mistakes(member_logits, labels))


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
