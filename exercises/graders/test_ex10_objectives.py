"""Graders for chapter 10 (unsupervised objectives): each compares the student's function with
the library's (`minit5.data.objectives`: expected_iid_denoising_lengths, restore_noise_spans,
bert_style with keep_token_prob=0.1)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check, check_equal, check_pair, check_raises, fail
from minit5.data.objectives import (
    iid_denoising,
    noise_span_to_unique_sentinel,
    nonnoise_span_to_unique_sentinel,
    span_corruption,
)

expected_iid_denoising_lengths = exercise("10.1")
restore_tokens = exercise("10.2")
bert_original = exercise("10.3")

seeds = st.integers(0, 2**32 - 1)


# ---- 10.1 the i.i.d. baseline's expected lengths ----------------------------------------------

def lengths_mistakes(n, r):
    between = (n - 1) * r * (1 - r)
    inputs, targets = n * (1 - r) + r + between + 1, n * r + (1 - r) + between + 1
    return [("one sentinel per run of corrupted tokens in the targets too (the targets mark the "
             "runs of kept tokens)", (inputs, n * r + r + between + 1)),
            ("leaving out EOS", (inputs - 1, targets - 1)),
            ("a run starting at every position with probability r (1 - r), the first included",
             (n * (1 - r) + n * r * (1 - r) + 1, n * r + n * r * (1 - r) + 1)),
            ("no sentinels at all (that is the cost of dropping the corrupted tokens)",
             (n * (1 - r) + 1, n * r + 1)),
            ("one sentinel per corrupted token", (n + 1, 2 * n * r + 1))]


LENGTHS_HINT = ("count what each side holds: the inputs keep the uncorrupted tokens and write "
                "one sentinel per run of corrupted tokens, the targets the reverse, both plus "
                "EOS; then take expectations run start by run start (position 0 is special)")


def grade_lengths(n, r):
    __tracebackhide__ = True
    expected = reference("10.1")(n, r)
    got = expected_iid_denoising_lengths.with_defaults(n, noise_density=r)
    check(isinstance(got, (tuple, list)) and len(got) == 2,
          f"expected_iid_denoising_lengths must return two numbers (inputs, targets), got "
          f"{got!r}", LENGTHS_HINT)
    check_pair("expected_iid_denoising_lengths", tuple(np.asarray(g, dtype=np.float64)
                                                        for g in got),
               tuple(np.float64(e) for e in expected), ("inputs", "targets"), LENGTHS_HINT,
               {"length": n, "noise_density": r},
               mistakes=[(text, tuple(np.float64(x) for x in wrong))
                         for text, wrong in lengths_mistakes(n, r)], rtol=1e-9, atol=1e-9)


@pytest.mark.ex10_1
@given(st.integers(1, 2000), st.floats(0.0, 1.0))
def test_expected_lengths_match_library(n, r):
    grade_lengths(n, r)


@pytest.mark.ex10_1
@pytest.mark.parametrize("n, r", [(1, 0.15), (2, 0.5), (63, 0.15), (512, 0.15), (63, 0.5),
                                  (10, 0.0), (10, 1.0)])
def test_expected_lengths_worked_cases(n, r):
    grade_lengths(n, r)


@pytest.mark.ex10_1
@pytest.mark.parametrize("n, r", [(0, 0.15), (-3, 0.15), (10, -0.1), (10, 1.5)])
def test_expected_lengths_refuse_bad_arguments(n, r):
    check_raises(ValueError, lambda: expected_iid_denoising_lengths(n, r),
                 f"expected_iid_denoising_lengths({n}, {r})",
                 "a length below 1 has no tokens to corrupt and a rate outside [0, 1] is no "
                 "probability: raise ValueError naming the argument and what it must be")


# ---- 10.2 a sentinel pair back to its text -----------------------------------------------------

def _pair(tokens, vocab, seed, density, objective, eos_id):
    rng = np.random.default_rng(seed)
    if objective == "span_corruption":
        return span_corruption(tokens, vocab, rng, noise_density=density, eos_id=eos_id)
    return iid_denoising(tokens, vocab, rng, noise_density=density, eos_id=eos_id)


@st.composite
def restore_case(draw):
    rng = np.random.default_rng(draw(seeds))
    vocab = draw(st.sampled_from([104, 110, 300, 32_100]))
    objective = draw(st.sampled_from(["iid_denoising", "span_corruption"]))
    n = draw(st.integers(0 if objective == "iid_denoising" else 4, 60))
    density = draw(st.floats(0.0, 1.0) if objective == "iid_denoising"
                   else st.floats(0.05, 0.6))
    tokens = rng.integers(3, vocab - 100, size=n)
    eos_id = draw(st.sampled_from([1, 1, 0, 2]))
    return _pair(tokens, vocab, draw(seeds), density, objective, eos_id) + (vocab, eos_id)


def _pieces(ids, vocab):
    cuts = np.flatnonzero(ids >= vocab - 100)
    return np.split(ids, cuts)


def _fill(inputs, runs, vocab):
    out, k = [], 0
    for token in inputs.tolist():
        if token >= vocab - 100:
            out.extend(np.asarray(runs[k]).tolist() if k < len(runs) else [])
            k += 1
        else:
            out.append(token)
    return np.array(out, dtype=np.int64)


def restore_mistakes(inputs, targets, vocab):
    body, tbody = inputs[:-1], targets[:-1]
    pieces = _pieces(tbody, vocab)
    runs = [p[1:] if i else p for i, p in enumerate(pieces)]
    nonempty = [r for r in runs if len(r)]
    by_id = {int(p[0]): p[1:] for p in pieces[1:] if len(p)}
    return [("pairing the inputs' <extra_id_k> with the run after the targets' <extra_id_k> "
             "(the two sides number their sentinels separately)",
             lambda: _fill(body, [by_id.get(int(t), []) for t in body if t >= vocab - 100],
                           vocab)),
            ("taking the piece after each of the targets' sentinels, the piece before the "
             "first one left out", lambda: _fill(body, [p[1:] for p in pieces[1:]], vocab)),
            ("keeping EOS at the end", lambda: np.append(_fill(body, nonempty, vocab),
                                                         inputs[-1])),
            ("the runs in the wrong order", lambda: _fill(body, nonempty[::-1], vocab)),
            ("the sentinels left in place (only the inputs' ordinary tokens)",
             lambda: body[body < vocab - 100])]


RESTORE_HINT = ("the inputs' sentinels and the targets' sentinels are numbered separately "
                "(the inputs mark the corrupted runs, the targets the kept runs); check a text "
                "that starts with a corrupted run, one that ends with one, and EOS")


def grade_restore(inputs, targets, vocab, eos_id=1):
    __tracebackhide__ = True
    expected = reference("10.2")(inputs, targets, vocab, eos_id)
    got = restore_tokens(inputs, targets, vocab, eos_id)
    call = {"inputs": inputs, "targets": targets, "vocab_size": vocab, "eos_id": eos_id}
    check_equal("restore_tokens", got, expected, RESTORE_HINT, call, what="the tokens",
                mistakes=restore_mistakes(inputs, targets, vocab))
    check(getattr(got, "dtype", None) == np.int64,
          f"restore_tokens returned dtype {getattr(got, 'dtype', type(got).__name__)}, not int64",
          "return an int64 array, as the docstring says (np.array(..., dtype=np.int64))",
          expected="int64", got=getattr(got, "dtype", type(got).__name__))


@pytest.mark.ex10_2
@given(restore_case())
def test_restore_tokens_matches_library(case):
    grade_restore(*case)


# (tokens, noise mask): the empty text, nothing corrupted, everything corrupted, a text that
# starts with a corrupted run, one that ends with one, both, and alternating runs.
RESTORE_CASES = [("", ""), ("5 6 7", "000"), ("5 6 7", "111"), ("5 6 7 8", "1100"),
                 ("5 6 7 8", "0011"), ("5 6 7 8 9", "10001"), ("5 6 7 8 9 10", "010101"),
                 ("9", "1"), ("9", "0")]


@pytest.mark.ex10_2
@pytest.mark.parametrize("text, bits", RESTORE_CASES)
@pytest.mark.parametrize("eos_id", [1, 0])
def test_restore_tokens_worked_cases(text, bits, eos_id):
    tokens = np.array([int(t) for t in text.split()], dtype=np.int64)
    mask = np.array([b == "1" for b in bits], dtype=bool)
    eos = np.array([eos_id])
    inputs = np.concatenate([noise_span_to_unique_sentinel(tokens, mask, 200), eos])
    targets = np.concatenate([nonnoise_span_to_unique_sentinel(tokens, mask, 200), eos])
    grade_restore(inputs, targets, 200, eos_id)


@pytest.mark.ex10_2
@pytest.mark.parametrize("inputs, targets", [
    ([5, 199, 8, 198, 1], [199, 6, 1]),          # two sentinels, one corrupted run
    ([5, 8, 1], [199, 6, 198, 1]),               # no sentinel, one corrupted run
    ([5, 199, 8], [199, 6, 198, 1]),             # the inputs without EOS
    ([5, 199, 8, 1], [199, 6, 198]),             # the targets without EOS
])
def test_restore_tokens_refuses_a_broken_pair(inputs, targets):
    inputs, targets = np.array(inputs), np.array(targets)
    check_raises(ValueError, lambda: restore_tokens(inputs, targets, 200, 1),
                 f"restore_tokens({inputs.tolist()}, {targets.tolist()}, 200, 1)",
                 "a pair whose sentinels and corrupted runs do not pair up one to one, or "
                 "without EOS at the end, is not an objective's pair: raise ValueError")


# ---- 10.3 BERT's 80/10/10 rule -----------------------------------------------------------------
# The draws are the student's to choose, so the grader checks what the rule must give: the
# targets exactly, and on 100,000 tokens the three shares of the inputs within 6 standard
# errors of the rule's probabilities (a random id can equal the mask id or the token itself).

def bert_call(tokens, vocab, seed, density, eos_id):
    __tracebackhide__ = True
    got = bert_original(tokens, vocab, np.random.default_rng(seed), density, eos_id)
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        fail(f"bert_original must return a pair (inputs, targets), got {type(got).__name__}",
             "return two int64 arrays")
    return got


BERT_HINT = ("each token is corrupted with probability noise_density; of the corrupted ones "
             "80% become the mask token, 10% a random id from [3, vocab_size) and 10% stay; "
             "the target is the whole original sequence plus EOS")


def grade_bert_exact_parts(tokens, vocab, seed, density, eos_id):
    __tracebackhide__ = True
    inputs, targets = bert_call(tokens, vocab, seed, density, eos_id)
    _, expected_targets = reference("10.3")(tokens, vocab, np.random.default_rng(seed),
                                            density, eos_id)
    call = {"tokens": tokens, "vocab_size": vocab, "noise_density": density, "eos_id": eos_id}
    check_equal("bert_original", targets, expected_targets, BERT_HINT, call,
                what="the targets")
    for name, part in (("inputs", inputs), ("targets", targets)):
        check(getattr(part, "dtype", None) == np.int64,
              f"bert_original: the {name} have dtype {getattr(part, 'dtype', None)}, not int64",
              "return int64 arrays, as the docstring says", expected="int64",
              got=getattr(part, "dtype", type(part).__name__))
    check(np.shape(inputs) == (len(tokens) + 1,) and int(inputs[-1]) == eos_id,
          f"bert_original: the inputs must be {len(tokens) + 1} ids ending in EOS ({eos_id})",
          BERT_HINT, expected=f"shape ({len(tokens) + 1},), last {eos_id}",
          got=f"shape {np.shape(inputs)}" + (f", last {int(inputs[-1])}" if len(inputs) else ""))
    again, _ = bert_call(tokens, vocab, seed, density, eos_id)
    check(np.array_equal(inputs, again),
          "bert_original gave two answers for the same generator state",
          "take every random number from the generator passed in (rng), not from "
          "np.random's global state or a generator of your own")
    return np.asarray(inputs)[:-1]


@st.composite
def bert_case(draw):
    rng = np.random.default_rng(draw(seeds))
    vocab = draw(st.integers(5, 400))
    tokens = rng.integers(3, vocab - 1, size=draw(st.integers(0, 150)))
    return tokens, vocab, draw(seeds), draw(st.floats(0.0, 1.0)), draw(st.sampled_from([1, 0]))


@pytest.mark.ex10_3
@given(bert_case())
def test_bert_original_targets_and_shape(case):
    tokens, vocab, seed, density, eos_id = case
    body = grade_bert_exact_parts(tokens, vocab, seed, density, eos_id)
    check(bool(np.all((body >= 3) & (body < vocab))) if len(body) else True,
          "bert_original: an input id is outside [3, vocab_size)",
          "the random ids come from [3, vocab_size): never pad 0, EOS 1 or unk 2",
          got=body)
    if density == 0:
        check(np.array_equal(body, tokens), "bert_original changed tokens at noise_density 0",
              BERT_HINT, expected=tokens, got=body)


# (vocab_size, noise_density, eos_id): a vocabulary so small that random ids often hit the
# token or the mask, every token corrupted, the paper's rate at T5's vocabulary, no corruption.
BERT_SHARE_CASES = [(12, 1.0, 1), (5, 0.9, 1), (50, 0.5, 0), (400, 0.15, 1),
                    (32_100, 0.15, 1), (1000, 0.0, 1), (30, 0.999, 0)]


@pytest.mark.ex10_3
@pytest.mark.parametrize("vocab, density, eos_id", BERT_SHARE_CASES)
def test_bert_original_shares_on_a_long_sequence(vocab, density, eos_id):
    n = 100_000
    tokens = np.random.default_rng(vocab).integers(3, vocab - 1, size=n)
    body = grade_bert_exact_parts(tokens, vocab, 11, density, eos_id)
    inv = 1 / (vocab - 3)                              # a random id hits one given id
    expected = {"the mask token": density * (0.8 + 0.1 * inv),
                "the token unchanged": 1 - density + density * (0.1 + 0.1 * inv),
                "another id": density * 0.1 * (vocab - 5) * inv}
    masked = (body == vocab - 1)
    same = (body == tokens)
    observed = {"the mask token": masked.mean(), "the token unchanged": same.mean(),
                "another id": (~masked & ~same).mean()}
    for what, p in expected.items():
        tolerance = 6 * np.sqrt(p * (1 - p) / n) + 1e-12
        check(abs(observed[what] - p) <= tolerance,
              f"bert_original: {observed[what]:.4f} of the inputs are {what}, expected "
              f"{p:.4f} +- {tolerance:.4f} (vocab_size {vocab}, noise_density {density})",
              BERT_HINT, expected=round(p, 4), got=round(float(observed[what]), 4))
    others = body[~masked & ~same]          # random ids other than the token and the mask
    if density > 0 and 6 <= vocab <= 50:      # every id of [3, vocab_size - 1) turns up
        counts = np.bincount(others - 3, minlength=vocab - 4)
        check(len(counts) == vocab - 4 and counts.min() > 0,
              f"bert_original: the random ids do not cover [3, {vocab})",
              "draw the random ids uniformly from [3, vocab_size), the mask id included",
              got=f"ids seen: {np.flatnonzero(counts) + 3}")
