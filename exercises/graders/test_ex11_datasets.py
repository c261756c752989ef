"""Graders for chapter 11 (pre-training data sets): each compares the student's function with
the library's (`minit5.reference.corpus_measures`)."""
import collections
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check, check_array, check_equal, check_raises, fail
from minit5.data.cleaning import split_sentences

unigram_cross_entropy = exercise("11.1")
repeat_profile = exercise("11.2")
shared_spans = exercise("11.3")

seeds = st.integers(0, 2**32 - 1)
WORDS = ["array", "Array", "plot", "figure", "axis", "the", "of", "socket", "NumPy's", "2-D",
         "value", "x42y", "data", "file", "snake_case", "Grüße", "naïve", "ÀRRAY", "東京",
         "x_y", "__init__"]                          # `_` and non-ASCII letters split words


# ---- 11.1 bits per word under a unigram model ----------------------------------------------

def _texts(rng, n, length):
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(1, length)))) + "."
            for _ in range(n)]


@st.composite
def unigram_case(draw):
    rng = np.random.default_rng(draw(seeds))
    pages = _texts(rng, int(rng.integers(1, 6)), 30)
    sentences = _texts(rng, int(rng.integers(1, 5)), 12)
    alpha = draw(st.sampled_from([0.1, 0.5, 1.0, 2.0, 3.0]))
    return pages, sentences, alpha


def _cross_entropy(pages, sentences, alpha, words=lambda t: re.findall(r"[a-z]+", t.lower()),
                   log=math.log2, extra_slot=1, distinct=False):
    counts = collections.Counter(w for p in pages for w in words(p))
    text = [w for s in sentences for w in words(s)]
    if distinct:
        text = sorted(set(text))
    if not counts or not text:
        return None
    denominator = sum(counts.values()) + alpha * (len(counts) + extra_slot)
    return float(np.mean([-log((counts[w] + alpha) / denominator) for w in text]))


def unigram_mistakes(pages, sentences, alpha):
    return [("the natural logarithm (nats, not bits)",
             lambda: _cross_entropy(pages, sentences, alpha, log=math.log)),
            ("V without the extra slot for unseen words",
             lambda: _cross_entropy(pages, sentences, alpha, extra_slot=0)),
            ("words split on whitespace, punctuation kept",
             lambda: _cross_entropy(pages, sentences, alpha, words=lambda t: t.lower().split())),
            ("words kept in their original case",
             lambda: _cross_entropy(pages, sentences, alpha,
                                    words=lambda t: re.findall(r"[A-Za-z]+", t))),
            ("the mean over distinct words instead of every word",
             lambda: _cross_entropy(pages, sentences, alpha, distinct=True)),
            ("words as \\w+ runs (underscores, digits and non-ASCII letters kept)",
             lambda: _cross_entropy(pages, sentences, alpha,
                                    words=lambda t: re.findall(r"\w+", t.lower())))]


UNIGRAM_HINT = ("words are lower-case runs of a-z; the denominator counts every word of the "
                "corpus plus alpha for each distinct word and once more for the unseen slot; "
                "the answer is in bits and averages over every word of the text, repeats "
                "included")


@pytest.mark.ex11_1
@given(unigram_case())
def test_unigram_cross_entropy_matches_library(case):
    pages, sentences, alpha = case
    expected = reference("11.1")(pages, sentences, alpha)
    got = unigram_cross_entropy.with_defaults(pages, sentences, alpha=alpha)
    check_array("unigram_cross_entropy", got, expected, UNIGRAM_HINT,
                {"pages": pages, "sentences": sentences, "alpha": alpha}, rtol=1e-9,
                what="the bits per word", mistakes=unigram_mistakes(pages, sentences, alpha))


@pytest.mark.ex11_1
@pytest.mark.parametrize("pages, sentences, alpha", [
    (["the array"], ["plot"], 0.0), (["42 ..."], ["plot"], 1.0), (["the array"], ["2 3"], 1.0)])
def test_unigram_cross_entropy_refuses_what_it_cannot_score(pages, sentences, alpha):
    with pytest.raises(ValueError):
        reference("11.1")(pages, sentences, alpha)
    check_raises(ValueError, lambda: unigram_cross_entropy(pages, sentences, alpha),
                 f"unigram_cross_entropy({pages!r}, {sentences!r}, {alpha!r})",
                 "alpha must be positive, and both the corpus and the text must contain words: say"
                 " which of these is wrong with a ValueError instead of returning a number")


# ---- 11.2 how often each piece is drawn ------------------------------------------------------

@st.composite
def profile_case(draw):
    num_pieces = draw(st.one_of(st.integers(1, 10), st.integers(11, 5000)))
    draws = draw(st.one_of(st.integers(0, 30), st.integers(31, 20_000)))
    max_count = draw(st.integers(0, 3 * draws // num_pieces + 10))
    return num_pieces, draws, max_count


def _poisson(num_pieces, draws, max_count):
    lam = draws / num_pieces
    return np.array([math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1)) if lam > 0
                     else float(k == 0) for k in range(max_count + 1)])


def profile_mistakes(num_pieces, draws, max_count):
    expected = reference("11.2")(num_pieces, draws, max_count)
    return [("the Poisson approximation exp(-m) m^k / k!, m = draws / num_pieces (close, but "
             "not exact)", lambda: _poisson(num_pieces, draws, max_count)),
            ("counts of pieces instead of shares", lambda: expected * num_pieces),
            ("a list shorter by one (k = 0 .. max_count - 1)", lambda: expected[:-1])]


PROFILE_HINT = ("the share of pieces drawn exactly k times is the chance that one given piece "
                "is drawn exactly k times; compute that chance exactly, not approximately, and "
                "in a form that neither overflows nor underflows for tens of thousands of "
                "draws")


@pytest.mark.ex11_2
@given(profile_case())
def test_repeat_profile_matches_library(case):
    num_pieces, draws, max_count = case
    expected = reference("11.2")(num_pieces, draws, max_count)
    try:
        got = repeat_profile(num_pieces, draws, max_count)
    except (OverflowError, ZeroDivisionError, ValueError) as err:
        fail(f"repeat_profile({num_pieces}, {draws}, {max_count}) raised "
             f"{type(err).__name__}: {err}", PROFILE_HINT)
    check_array("repeat_profile", got, expected, PROFILE_HINT,
                {"num_pieces": num_pieces, "draws": draws, "max_count": max_count},
                rtol=1e-9, atol=1e-300, what="the shares",
                mistakes=profile_mistakes(num_pieces, draws, max_count))


@pytest.mark.ex11_2
@pytest.mark.parametrize("num_pieces, draws, max_count", [
    (1, 5, 7), (1, 5, 3), (7, 0, 2), (200, 12_800, 120),
    # probabilities that underflow: 2^-20000, a piece that takes every one of 20,000 draws,
    # binomial coefficients far past float range near the mean, a tail of 1e-26
    (2, 20_000, 10), (1, 20_000, 5), (3, 20_000, 6700), (5000, 20_000, 40), (20_000, 1, 3)])
def test_repeat_profile_corner_cases(num_pieces, draws, max_count):
    expected = reference("11.2")(num_pieces, draws, max_count)
    got = repeat_profile(num_pieces, draws, max_count)
    check_array("repeat_profile", got, expected,
                "one piece takes every draw; with no draws every piece is seen 0 times",
                {"num_pieces": num_pieces, "draws": draws, "max_count": max_count},
                rtol=1e-9, atol=1e-300, what="the shares")


# ---- 11.3 the text two corpora share ---------------------------------------------------------

SENTENCES = ["The array is here.", "A plot is drawn.", "It has an axis.", "Data is saved!",
             "Is the file open?", "Values are numbers."]


@st.composite
def spans_case(draw):
    rng = np.random.default_rng(draw(seeds))

    def page():
        chosen = rng.choice(SENTENCES, size=int(rng.integers(1, 7)))
        lines, line = [], []
        for sentence in chosen:                 # a few sentences per line
            line.append(str(sentence))
            if rng.random() < 0.4:
                lines.append(" ".join(line))
                line = []
        return "\n".join(lines + ([" ".join(line)] if line else []))
    pages = [page() for _ in range(int(rng.integers(1, 5)))]
    other = [page() for _ in range(int(rng.integers(1, 5)))]
    return pages, other, draw(st.integers(1, 4))


def _runs(pages, span, across_pages=False, per_line=False):
    units = [[line] for page in pages for line in page.split("\n")] if per_line else \
        ([list(pages)] if across_pages else [[page] for page in pages])
    found = set()
    for unit in units:
        sentences = [s for text in unit for line in text.split("\n")
                     for s in split_sentences(line)]
        found |= {tuple(sentences[i:i + span]) for i in range(len(sentences) - span + 1)}
    return found


def spans_mistakes(pages, other, span):
    return [("runs that cross from one page into the next",
             lambda: sorted(_runs(pages, span, True) & _runs(other, span, True))),
            ("runs inside one line only (a page's lines must be joined)",
             lambda: sorted(_runs(pages, span, per_line=True) & _runs(other, span,
                                                                      per_line=True)))]


SPANS_HINT = ("a run is `span` consecutive sentences of one page, its lines' sentences one "
              "after another; return each shared run once, as a tuple, in a sorted list")


@pytest.mark.ex11_3
@given(spans_case())
def test_shared_spans_matches_library(case):
    pages, other, span = case
    expected = reference("11.3")(pages, other, span)
    got = shared_spans(pages, other, span)
    inputs = {"pages": pages, "other_pages": other, "span": span}
    check(isinstance(got, list), f"shared_spans returned {type(got).__name__}, not a list",
          SPANS_HINT)
    check_equal("shared_spans", [tuple(run) for run in got], expected, SPANS_HINT, inputs,
                what="the shared runs", mistakes=spans_mistakes(pages, other, span))
    check(all(isinstance(run, tuple) for run in got),
          "shared_spans returned runs that are not tuples", SPANS_HINT)
