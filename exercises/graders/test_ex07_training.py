"""Graders for chapter 7 (pre-training): span corruption, the baseline, Adafactor, packing.

The random functions are graded on the same generator state as the library: the docstrings
say which draws to make, in which order, so a correct answer gives the library's arrays. When
it does not, the invariants (noise count, span count, where the mask starts and ends, whether
inputs and targets rebuild the tokens) come first, so the message says what is off.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import (
    check,
    check_array,
    check_dtype,
    check_equal,
    check_pair,
    describe,
    fail,
)
from tests.strategies import arrays

random_spans_noise_mask = exercise("7.1")
replace_with_sentinels = exercise("7.2")
iid_replace_spans = exercise("7.3")
random_spans_helper = exercise("7.4")
factored_second_moment = exercise("7.5")
adafactor_step = exercise("7.6")
inverse_sqrt = exercise("7.7")
pack_sequences = exercise("7.8")

VOCAB = 1100


def _runs(mask):
    """Number of runs of True in a 1-D bool array."""
    mask = np.asarray(mask, dtype=bool)
    return int(np.sum(mask & ~np.concatenate([[False], mask[:-1]])))


# ---- 7.1 the noise mask ---------------------------------------------------------------------

@st.composite
def mask_case(draw):
    density = draw(st.one_of(st.sampled_from([0.15, 0.15, 0.3, 0.5, 0.05, 0.8, 0.95]),
                             st.floats(0.01, 0.99)))             # the whole of (0, 1)
    mean = draw(st.sampled_from([3.0, 3.0, 1.0, 2.0, 5.0, 1.5, 20.0]))
    length = draw(st.one_of(st.integers(0, 12), st.integers(13, 600)))
    # Lengths the library refuses (too few non-noise tokens to separate the spans) are skipped.
    L = max(length, 2)
    num_noise = min(max(round(L * density), 1), L - 1)
    num_spans = max(round(num_noise / mean), 1)
    if L - num_noise < num_spans:
        length, density, mean = 10, 0.15, 3.0
    return length, density, mean, draw(st.integers(0, 2 ** 32 - 1))


@pytest.mark.ex7_1
@given(mask_case())
def test_noise_mask_matches_library(case):
    grade_mask(*case)


# Pinned: a density of exactly 0.5 (L * 0.5 ends in .5 for odd L: round half to even), the
# lengths 0, 1 and 2 (L = max(length, 2)), a density near 1, one-token spans.
@pytest.mark.ex7_1
@pytest.mark.parametrize("length, density, mean", [
    (9, 0.5, 1.0), (11, 0.5, 2.0), (25, 0.5, 3.0), (100, 0.5, 3.0), (0, 0.15, 3.0),
    (1, 0.15, 3.0), (2, 0.5, 1.0), (3, 0.9, 2.0), (40, 0.95, 38.0), (40, 0.15, 1.0)])
def test_noise_mask_pinned_cases(length, density, mean):
    grade_mask(length, density, mean, 12345)


def grade_mask(length, density, mean, seed):
    __tracebackhide__ = True
    expected = reference("7.1")(length, density, mean, rng=np.random.default_rng(seed))
    got = random_spans_noise_mask.with_defaults(length, noise_density=density,
                                                mean_noise_span_length=mean,
                                                rng=np.random.default_rng(seed))
    inputs = {"length": length, "noise_density": density, "mean_noise_span_length": mean,
              "rng": f"np.random.default_rng({seed})"}
    got_array = np.asarray(got) if got is not None else None
    if got_array is None or got_array.shape != expected.shape:
        fail(f"random_spans_noise_mask returned {describe(got)}, expected a bool array of "
             f"length {length}", "the mask has one entry per token: the first `length` of the "
             "L = max(length, 2) built", expected=f"shape {expected.shape}",
             got=describe(got))
    full = reference("7.1")(max(length, 2), density, mean, rng=np.random.default_rng(seed))
    if length >= 2:
        check(int(got_array.sum()) == int(expected.sum()),
              f"random_spans_noise_mask: {int(got_array.sum())} noise tokens, expected "
              f"{int(expected.sum())}",
              "the count of noise tokens is fixed by the arguments alone: check the rounding "
              "(halves go to even), the clipping and that it uses L, not length",
              expected=int(expected.sum()),
              got=int(got_array.sum()))
        check(_runs(got_array) == _runs(full),
              f"random_spans_noise_mask: {_runs(got_array)} noise spans, expected "
              f"{_runs(full)}", "the number of spans is fixed by the counts too (at least one), "
              "and both kinds of token are split into that many runs, none of them empty",
              expected=_runs(full), got=_runs(got_array))
        check(not got_array[0] and got_array[-1],
              "random_spans_noise_mask: the mask must start with a non-noise token and end "
              "with a noise token", "the spans alternate starting with non-noise: nonnoise_0, "
              "noise_0, nonnoise_1, noise_1, ...", expected=short_mask(expected),
              got=short_mask(got_array))
    check_dtype("random_spans_noise_mask", got_array, np.bool_, "return a bool array, as the "
                "docstring says (True where a token is noise)")
    check_equal("random_spans_noise_mask", got_array.astype(bool), expected,
                "the counts are right but the spans fall elsewhere than the library's for the "
                "same generator: split the noise tokens first, then the non-noise ones, each "
                "with one rng.permutation of the chapter's boundary array",
                inputs=inputs)


def short_mask(mask):
    return "".join("T" if m else "F" for m in np.asarray(mask)[:40])


# ---- 7.2 sentinels --------------------------------------------------------------------------

@st.composite
def sentinel_case(draw):
    n = draw(st.integers(0, 30))
    tokens = draw(hnp.arrays(np.int64, n, elements=st.integers(3, VOCAB - 101)))
    pattern = draw(st.sampled_from(["random", "none", "all", "ends"]))
    if pattern == "random":
        mask = draw(hnp.arrays(np.bool_, n))
    elif pattern == "ends":
        mask = np.zeros(n, dtype=bool)
        mask[:1] = mask[-1:] = True
    else:
        mask = np.full(n, pattern == "all")
    return tokens, mask, draw(st.sampled_from([1, 7]))


def sentinel_mistakes(tokens, mask, eos_id):
    lib = reference("7.2")
    inputs, targets = lib(tokens, mask, VOCAB, eos_id)
    return [("a sentinel for every noise token rather than one per run",
             lambda: (np.append(np.where(mask, VOCAB - 1 - np.cumsum(mask) + 1, tokens),
                                eos_id), targets)),
            ("counting sentinels up from vocab_size - 100 instead of down from vocab_size - 1",
             lambda: tuple(np.where(a >= VOCAB - 100, 2 * VOCAB - 101 - a, a)
                           for a in (inputs, targets))),
            ("leaving out EOS", (inputs[:-1], targets[:-1]))]


@pytest.mark.ex7_2
@given(sentinel_case())
def test_replace_with_sentinels_matches_library(case):
    tokens, mask, eos_id = case
    expected = reference("7.2")(tokens, mask, VOCAB, eos_id)
    check_pair("replace_with_sentinels",
               replace_with_sentinels.with_defaults(tokens, mask, VOCAB, eos_id=eos_id),
               expected, ("inputs", "targets"),
               "one sentinel per run (the first run gets vocab_size - 1, each later run one "
               "less), the targets from the inverted mask, and eos_id at the end of both",
               inputs={"tokens": tokens, "noise_mask": mask, "vocab_size": VOCAB,
                       "eos_id": eos_id},
               mistakes=sentinel_mistakes(tokens, mask, eos_id), rtol=0, atol=0)


# ---- 7.3 the i.i.d. baseline ----------------------------------------------------------------

@pytest.mark.ex7_3
@given(st.integers(0, 60), st.one_of(st.sampled_from([0.15, 0.15, 0.5, 0.02, 0.0, 1.0]),
                                     st.floats(0.0, 1.0)),
       st.integers(0, 2 ** 32 - 1), st.sampled_from([1, 1, 0, 7]))
def test_iid_replace_spans_matches_library(n, density, seed, eos_id):
    grade_iid(n, density, seed, eos_id)


@pytest.mark.ex7_3
@pytest.mark.parametrize("n", [0, 1, 17])
def test_iid_replace_spans_defaults(n):
    # noise_density and eos_id left out: 0.15 and 1.
    tokens = np.random.default_rng(n).integers(3, VOCAB - 100, size=n)
    expected = reference("7.3")(tokens, VOCAB, np.random.default_rng(4))
    check_pair("iid_replace_spans", iid_replace_spans(tokens, VOCAB, np.random.default_rng(4)),
               expected, ("inputs", "targets"), "keep the defaults of the stub's signature "
               "(noise_density 0.15, eos_id 1)", inputs={"tokens": tokens}, rtol=0, atol=0)


def grade_iid(n, density, seed, eos_id):
    __tracebackhide__ = True
    tokens = np.random.default_rng(seed + 1).integers(3, VOCAB - 100, size=n)
    expected = reference("7.3")(tokens, VOCAB, np.random.default_rng(seed), density, eos_id)
    got = iid_replace_spans(tokens, VOCAB, np.random.default_rng(seed), density, eos_id)
    mask = np.random.default_rng(seed).random(n) < density
    span_version = (("span corruption's mask (the baseline draws every token independently)",
                     lambda: reference("7.2")(tokens, np.sort(mask)[::-1].copy(), VOCAB,
                                              eos_id)),)
    check_pair("iid_replace_spans", got, expected, ("inputs", "targets"),
               "every token is noise or not independently, from a single draw of the "
               "generator as the docstring says; the rest is Exercise 7.2",
               inputs={"tokens": tokens, "vocab_size": VOCAB,
                       "rng": f"np.random.default_rng({seed})", "noise_density": density,
                       "eos_id": eos_id},
               mistakes=span_version, rtol=0, atol=0)


# ---- 7.4 random_spans_helper ----------------------------------------------------------------

def helper_mistakes(length, density, mean):
    def search(start_low):
        def lengths(n):
            noise = int(round(n * density))
            spans = int(round(noise / mean))
            return n - noise + spans + 1, noise + spans + 1
        n = start_low
        while lengths(n + 1)[0] <= length:
            n += 1
        return n, lengths(n)[1]
    return [("forgetting the EOS token", lambda: _no_eos(length, density, mean)),
            ("leaving out the density-0.5 special case", lambda: search(length - 1))]


def _no_eos(length, density, mean):
    n = length - 1
    while (n + 1) - round((n + 1) * density) + round(round((n + 1) * density) / mean) \
            <= length:
        n += 1
    noise = round(n * density)
    return n, noise + round(noise / mean)


@pytest.mark.ex7_4
@pytest.mark.parametrize("length", [512, 128, 256, 1024])
def test_random_spans_helper_papers_lengths(length):
    expected = reference("7.4")(length)
    check_equal("random_spans_helper", _pair(random_spans_helper(length)), expected,
                "the answer is the largest piece whose corrupted inputs, EOS included, fit; "
                "check where your search starts and stops", inputs={"inputs_length": length},
                mistakes=helper_mistakes(length, 0.15, 3.0))


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else value


@pytest.mark.ex7_4
@given(st.integers(2, 2000), st.one_of(st.sampled_from([0.15, 0.1, 0.25, 0.5, 0.3, 0.7, 0.9]),
                                      st.floats(0.01, 0.99)),
       st.sampled_from([3.0, 1.0, 2.0, 5.0, 10.0]))
def test_random_spans_helper_matches_library(length, density, mean):
    grade_helper(length, density, mean)


# Pinned: a density of exactly 0.5, where the special case (targets no longer than inputs)
# changes the answer for these lengths, and where it does not.
@pytest.mark.ex7_4
@pytest.mark.parametrize("length, mean", [(HALF, 3.0) for HALF in (2, 3, 10, 11, 64, 512)]
                         + [(7, 1.0), (100, 2.0), (513, 5.0)])
def test_random_spans_helper_at_density_one_half(length, mean):
    grade_helper(length, 0.5, mean)


def grade_helper(length, density, mean):
    __tracebackhide__ = True
    expected = reference("7.4")(length, density, mean)
    check_equal("random_spans_helper", _pair(random_spans_helper.with_defaults(
        length, noise_density=density, mean_noise_span_length=mean)),
                expected, "use the rounding of corrupted_lengths (Python's round), and mind "
                "the density-0.5 case", inputs={"inputs_length": length,
                                                "noise_density": density,
                                                "mean_noise_span_length": mean},
                mistakes=helper_mistakes(length, density, mean))


# ---- 7.5 factored second moment -------------------------------------------------------------

@st.composite
def moment_case(draw):
    n, m = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    grad = draw(arrays((n, m))) * draw(st.sampled_from([1.0, 1e-3, 100.0]))
    step = draw(st.sampled_from([1, 2, 3, 10, 1000]))
    row = np.abs(draw(arrays((n,)))) if step > 1 else np.zeros(n)
    col = np.abs(draw(arrays((m,)))) if step > 1 else np.zeros(m)
    if draw(st.booleans()):
        grad[..., 0] = 0.0                       # a zero column: only eps1 is left there
    decay_rate = draw(st.sampled_from([-0.8, -0.8, -0.5, -1.0]))
    eps1 = draw(st.sampled_from([1e-30, 1e-30, 1e-3, 0.5]))
    return grad, row, col, step, decay_rate, eps1


def moment_mistakes(grad, row, col, step, decay_rate=-0.8, eps1=1e-30):
    beta2 = 1.0 - step ** decay_rate
    sq = grad * grad + eps1
    return [("swapping the row and column means",
             (beta2 * row + (1 - beta2) * sq.mean(axis=0)[:len(row)] if grad.shape[0] ==
              grad.shape[1] else None, None)),
            ("beta2_t = 1 - step ** -decay_rate (the sign of decay_rate lost)",
             lambda: (row * (1 - step ** -decay_rate) + step ** -decay_rate * sq.mean(axis=1),
                      col * (1 - step ** -decay_rate) + step ** -decay_rate * sq.mean(axis=0))),
            ("the paper's decay_rate -0.8 whatever decay_rate is passed",
             lambda: reference("7.5")(grad, row, col, step, -0.8, eps1)),
            ("eps1 left out (G^2 alone)",
             lambda: reference("7.5")(grad, row, col, step, decay_rate, 0.0)),
            ("sums instead of means", lambda: (beta2 * row + (1 - beta2) * sq.sum(axis=1),
                                               beta2 * col + (1 - beta2) * sq.sum(axis=0)))]


@pytest.mark.ex7_5
@given(moment_case())
def test_factored_second_moment_matches_library(case):
    grad, row, col, step, decay_rate, eps1 = case
    expected = reference("7.5")(grad, row, col, step, decay_rate, eps1)
    got = (factored_second_moment(grad, row, col, step) if (decay_rate, eps1) == (-0.8, 1e-30)
           else factored_second_moment(grad, row, col, step, decay_rate, eps1))
    check_pair("factored_second_moment", got,
               expected, ("row", "col"),
               "R averages G^2 + eps1 over each row (one value per row, n of them), C over "
               "each column; both decay with beta2_t = 1 - step ** decay_rate",
               inputs={"grad": grad, "row": row, "col": col, "step": step,
                       "decay_rate": decay_rate, "eps1": eps1},
               mistakes=moment_mistakes(grad, row, col, step, decay_rate, eps1), rtol=1e-9,
               atol=1e-300)


# ---- 7.6 one Adafactor step -----------------------------------------------------------------

@st.composite
def step_case(draw):
    n, m = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    param = draw(arrays((n, m))) * draw(st.sampled_from([1.0, 1e-5, 10.0]))
    grad = draw(arrays((n, m))) * draw(st.sampled_from([1.0, 1e-3, 1e3]))
    step = draw(st.sampled_from([1, 2, 5, 100, 20_000]))
    row = np.abs(draw(arrays((n,)))) * 1e-2 if step > 1 else np.zeros(n)
    col = np.abs(draw(arrays((m,)))) * 1e-2 if step > 1 else np.zeros(m)
    return param, grad, row, col, step


def _variant(param, grad, row, col, step, clip=True, relative=True, scale=True):
    new_row, new_col = reference("7.5")(grad, row, col, step)
    v = np.outer(new_row, new_col) / new_row.mean()
    u = grad / np.sqrt(v)
    if clip:
        u = u / max(1.0, math.sqrt(float(np.mean(u * u))))
    rho = min(1e-2, 1.0 / math.sqrt(step)) if relative else 1e-2
    alpha = max(1e-3, math.sqrt(float(np.mean(param * param)))) * rho if scale else rho
    return param - alpha * u, new_row, new_col


def step_mistakes(param, grad, row, col, step):
    return [("leaving out update clipping",
             lambda: _variant(param, grad, row, col, step, clip=False)),
            ("a constant 1e-2 instead of the relative step min(1e-2, 1/sqrt(step))",
             lambda: _variant(param, grad, row, col, step, relative=False)),
            ("leaving out the parameter scale max(eps2, RMS(param))",
             lambda: _variant(param, grad, row, col, step, scale=False))]


@pytest.mark.ex7_6
@given(step_case())
def test_adafactor_step_matches_library(case):
    param, grad, row, col, step = case
    expected = reference("7.6")(param, grad, row, col, step)
    check_pair("adafactor_step", adafactor_step(param, grad, row, col, step), expected,
               ("param", "row", "col"),
               "the step is alpha_t * U with alpha_t = max(eps2, RMS(param before the step)) "
               "* min(1e-2, 1/sqrt(step)), U = G / sqrt(V) clipped to RMS at most 1",
               inputs={"param": param, "grad": grad, "row": row, "col": col, "step": step},
               mistakes=step_mistakes(param, grad, row, col, step), rtol=1e-8, atol=1e-12)


# ---- 7.7 the inverse square root schedule ---------------------------------------------------

@pytest.mark.ex7_7
@given(st.one_of(st.integers(0, 30_000), st.sampled_from([0, 1, 9_999, 10_000, 10_001,
                                                           2 ** 19])),
       st.sampled_from([10_000, 10_000, 1, 100, 4_000]))
def test_inverse_sqrt_matches_library(step, warmup):
    expected = reference("7.7")(step, warmup)
    got = inverse_sqrt.with_defaults(step, warmup=warmup)
    check_array("inverse_sqrt", got, np.float64(expected),
                "the rate is constant at 1/sqrt(warmup) until `warmup` steps, then decays as "
                "1/sqrt(step)", inputs={"step": step, "warmup": warmup}, rtol=1e-12,
                mistakes=[("Hugging Face's fixed cap of 1e-2 (right only for warmup 10^4)",
                           lambda: min(1e-2, 1 / math.sqrt(max(step, 1)))),
                          ("a linear warm-up to the peak", lambda: min(
                              step / warmup, 1.0) / math.sqrt(warmup) if step <= warmup
                           else 1 / math.sqrt(step))])


@pytest.mark.ex7_7
@pytest.mark.parametrize("step,warmup,argument", [(-1, 10_000, "step"), (5, 0, "warmup"),
                                                  (5, -3, "warmup")])
def test_inverse_sqrt_refuses_bad_arguments(step, warmup, argument):
    try:
        got = inverse_sqrt(step, warmup)
    except ValueError as err:
        check(argument in str(err), f"inverse_sqrt({step}, {warmup}) raised ValueError({err!s}) "
              f"without naming `{argument}`", f"say which argument is wrong: `{argument}`",
              expected=f"a message naming {argument}", got=str(err))
        return
    fail(f"inverse_sqrt({step}, {warmup}) returned {got!r} instead of raising ValueError",
         f"a {argument} like that is the caller's mistake: raise ValueError naming it",
         expected="ValueError", got=repr(got))


# ---- 7.8 packing ----------------------------------------------------------------------------

@st.composite
def pack_case(draw):
    length = draw(st.integers(1, 12))
    lengths = draw(st.lists(st.one_of(st.integers(1, length), st.just(length),
                                      st.integers(length, 2 * length)), min_size=1,
                            max_size=8))
    sequences = [draw(hnp.arrays(np.int64, n, elements=st.integers(1, 99))) for n in lengths]
    return sequences, length


def pack_mistakes(sequences, length):
    one_per_row_tokens = np.zeros((len(sequences), length), dtype=np.int64)
    one_per_row_segments = np.zeros((len(sequences), length), dtype=np.int64)
    for r, seq in enumerate(sequences):
        seq = seq[:length]
        one_per_row_tokens[r, :len(seq)] = seq
        one_per_row_segments[r, :len(seq)] = 1
    return [("one sequence per row (that is padding, not packing)",
             (one_per_row_tokens, one_per_row_segments))]


@pytest.mark.ex7_8
@given(pack_case())
def test_pack_sequences_matches_library(case):
    grade_pack(*case)


# Pinned: sequences that exactly fill a row (alone, and after others that fill it up), one
# that is one token too long, a row of one token, no sequence that fits a second time.
@pytest.mark.ex7_8
@pytest.mark.parametrize("lengths, length", [([4], 4), ([4, 4], 4), ([2, 2, 4], 4),
                                             ([3, 1, 2, 2], 4), ([5], 4), ([1, 1, 1], 1),
                                             ([3, 2], 5), ([2, 3, 5, 1], 5)])
def test_pack_sequences_pinned_cases(lengths, length):
    rng = np.random.default_rng(len(lengths))
    grade_pack([rng.integers(1, 99, size=n) for n in lengths], length)


def grade_pack(sequences, length):
    __tracebackhide__ = True
    expected = reference("7.8")(sequences, length)
    check_pair("pack_sequences", pack_sequences(sequences, length), expected,
               ("tokens", "segment_ids"),
               "keep the order, trim sequences longer than a row, open a new row only when "
               "the next sequence does not fit, and number the segments from 1 in each row",
               inputs={"sequences": sequences, "length": length},
               mistakes=pack_mistakes(sequences, length), rtol=0, atol=0)
