"""Graders for chapter 10 (unsupervised objectives): each compares the student's function with
the library's (`minit5.data.objectives`: expected_iid_denoising_lengths, noise_span_lengths,
bert_style with keep_token_prob=0.1)."""
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check, check_equal, check_pair, check_raises, fail
from minit5.data.objectives import bert_style, random_spans_noise_mask

expected_iid_denoising_lengths = exercise("10.1")
noise_span_lengths = exercise("10.2")
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
    got = expected_iid_denoising_lengths(n, r)
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


# ---- 10.2 the lengths of the corrupted spans ----------------------------------------------------

@st.composite
def mask_case(draw):
    rng = np.random.default_rng(draw(seeds))
    length = draw(st.integers(0, 120))
    if draw(st.booleans()) or length < 2:
        return rng.random(length) < draw(st.floats(0.0, 1.0))           # i.i.d.
    return random_spans_noise_mask(length, draw(st.floats(0.05, 0.45)),
                                   draw(st.floats(1.0, 6.0)), rng=rng)


def _runs(mask, value):
    return np.array([len(list(run)) for key, run in itertools.groupby(mask.tolist())
                     if key == value], dtype=np.int64)


def spans_mistakes(mask):
    return [("the runs of kept (False) positions", _runs(mask, False)),
            ("the lengths of every run, kept and corrupted",
             np.array([len(list(run)) for _, run in itertools.groupby(mask.tolist())],
                      dtype=np.int64)),
            ("the positions where the spans start",
             np.flatnonzero(mask & ~np.concatenate([[False], mask[:-1]]))),
            ("one entry per corrupted token", np.ones(int(mask.sum()), dtype=np.int64))]


SPANS_HINT = ("a span is a maximal run of consecutive True positions; list each run's length, "
              "left to right, and nothing for the False positions")


@pytest.mark.ex10_2
@given(mask_case())
def test_noise_span_lengths_match_library(mask):
    expected = reference("10.2")(mask)
    got = noise_span_lengths(mask)
    if got is not None and np.size(got) and not np.issubdtype(np.asarray(got).dtype, np.integer):
        fail(f"noise_span_lengths returned dtype {np.asarray(got).dtype}; expected integers",
             "span lengths are counts: return an integer array")
    check_equal("noise_span_lengths", got, expected, SPANS_HINT, {"noise_mask": mask},
                mistakes=spans_mistakes(mask))


@pytest.mark.ex10_2
@pytest.mark.parametrize("bits", ["", "0", "1", "0110100111", "1111", "1001", "0000"])
def test_noise_span_lengths_worked_cases(bits):
    mask = np.array([b == "1" for b in bits], dtype=bool)
    expected = reference("10.2")(mask)
    check_equal("noise_span_lengths", noise_span_lengths(mask), expected, SPANS_HINT,
                {"noise_mask": mask}, mistakes=spans_mistakes(mask))


# ---- 10.3 BERT's 80/10/10 rule -----------------------------------------------------------------

@st.composite
def bert_case(draw):
    rng = np.random.default_rng(draw(seeds))
    vocab = draw(st.integers(10, 400))
    tokens = rng.integers(3, vocab - 1, size=draw(st.integers(0, 150)))
    return tokens, vocab, draw(seeds), draw(st.sampled_from([0.15, 0.3, 0.5, 0.9]))


def _keep_first(tokens, vocab, seed, density):
    # 0 <= u < 0.1 kept, 0.1 <= u < 0.2 random: the two shares taken the other way round.
    rng = np.random.default_rng(seed)
    n = len(tokens)
    noise = rng.random(n) < density
    u = rng.random(n)
    random_ids = rng.integers(3, vocab, size=n)
    replaced = np.where(u < 0.1, tokens, np.where(u < 0.2, random_ids, vocab - 1))
    return np.append(np.where(noise, replaced, tokens), 1), np.append(tokens, 1)


def bert_mistakes(tokens, vocab, seed, density, eos_id):
    eos = np.array([eos_id])
    return [("the paper's BERT-style rule (90% mask, 10% random, none kept)",
             lambda: bert_style(tokens, vocab, np.random.default_rng(seed), density,
                                eos_id=eos_id)),
            ("taking the kept share before the random share (u < 0.1 kept)",
             lambda: _keep_first(tokens, vocab, seed, density) if eos_id == 1 else None),
            ("targets that hold only the corrupted tokens",
             lambda: (reference("10.3")(tokens, vocab, np.random.default_rng(seed), density,
                                        eos_id)[0],
                      np.concatenate([tokens[np.random.default_rng(seed).random(len(tokens))
                                             < density], eos]))),
            ("no EOS at the end", lambda: tuple(part[:-1] for part in reference("10.3")(
                tokens, vocab, np.random.default_rng(seed), density, eos_id)))]


BERT_HINT = ("the target is the whole original sequence plus EOS; in the inputs only corrupted "
             "positions may change, each as its own uniform u says; draw the three arrays "
             "from rng in the docstring's order and with its sizes, or the same generator "
             "state gives other numbers")


def grade_bert(tokens, vocab, seed, density, eos_id=1):
    __tracebackhide__ = True
    expected = reference("10.3")(tokens, vocab, np.random.default_rng(seed), density, eos_id)
    got = bert_original(tokens, vocab, np.random.default_rng(seed), density, eos_id)
    check_pair("bert_original", got, expected, ("inputs", "targets"), BERT_HINT,
               {"tokens": tokens, "vocab_size": vocab, "rng": f"default_rng({seed})",
                "noise_density": density, "eos_id": eos_id},
               mistakes=bert_mistakes(tokens, vocab, seed, density, eos_id), rtol=0, atol=0)


@pytest.mark.ex10_3
@given(bert_case())
def test_bert_original_matches_library(case):
    grade_bert(*case)


@pytest.mark.ex10_3
@pytest.mark.parametrize("eos_id", [1, 0])
def test_bert_original_shares_on_a_long_sequence(eos_id):
    # 20,000 tokens at 50% corruption: the three shares are visible, and must equal the
    # library's exactly.
    tokens = np.full(20_000, 7, dtype=np.int64)
    grade_bert(tokens, 50, 3, 0.5, eos_id)
