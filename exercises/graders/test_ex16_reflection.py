"""Graders for chapter 16 (reflection): each compares the student's function with the library's
(`minit5.experiments.verdicts.pairwise_agreement`, `minit5.data.byte_tokenizer.byt5_encode`,
and `minit5.data.mixing.mixing_rates` with temperature 1 / alpha for mT5's sampling,
turned into passes over each language's data)."""
import itertools
import json
import pathlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check, check_array, check_equal, check_raises, fail

pairwise_agreement = exercise("16.1")
byt5_encode = exercise("16.2")
language_epochs = exercise("16.3")

RESULTS = pathlib.Path(__file__).resolve().parents[2] / "experiments" / "results"


# ---- 16.1 every pair of rows ------------------------------------------------------------------

@st.composite
def table_case(draw):
    names = [f"row {i}" for i in range(draw(st.integers(0, 7)))]
    means = st.sampled_from([50.0, 52.5, 53.0, 55.0, 60.0, 61.25])   # exact ties happen
    summary = {n: {"mean": draw(means), "std": draw(st.sampled_from([0.0, 0.25, 1.0, 2.5]))}
               for n in names}
    paper = {n: draw(st.sampled_from([76.0, 82.8, 83.0, 83.28, 84.0])) for n in names
             if draw(st.integers(0, 4))}                 # about one row in five has no number
    if names and draw(st.booleans()):
        paper["only in the paper"] = 81.0
    order = list(paper)
    draw(st.randoms()).shuffle(order)
    return summary, {n: paper[n] for n in order}, draw(st.sampled_from([0.235, 0.0, 1.0]))


def _direction(gap, bar):
    return "above" if gap > bar else "below" if gap < -bar else "level"


def _pairs(summary, paper, spread, pooled=False, signed_paper=False, ordered=False):
    rows = [r for r in paper if r in summary]
    combos = itertools.permutations(rows, 2) if ordered else itertools.combinations(rows, 2)
    agree = total = 0
    for a, b in combos:
        sa, sb = summary[a], summary[b]
        bar = 2 * (sa["std"] + sb["std"]) / 2 if pooled else 2 * max(sa["std"], sb["std"])
        mini = _direction(sa["mean"] - sb["mean"], bar)
        pap = _direction(paper[a] - paper[b], 0.0 if signed_paper else 2 * spread)
        total += 1
        agree += mini == pap
    return agree, total


def agreement_mistakes(summary, paper, spread):
    return [("averaging the two spreads instead of taking the larger",
             _pairs(summary, paper, spread, pooled=True)),
            ("comparing the paper's numbers without its spread (any gap counts)",
             _pairs(summary, paper, spread, signed_paper=True)),
            ("counting each pair twice, (a, b) and (b, a)",
             _pairs(summary, paper, spread, ordered=True))]


AGREEMENT_HINT = ("for each unordered pair of rows that both sides have, give the miniature and "
                  "the paper a direction each (above, level, below) against their own bars, "
                  "and count the pairs whose directions are equal")


def grade_agreement(summary, paper, spread):
    __tracebackhide__ = True
    expected = reference("16.1")(summary, paper, spread)
    got = pairwise_agreement(summary, paper, spread)
    check(isinstance(got, (tuple, list)) and len(got) == 2,
          f"pairwise_agreement must return two ints (agreeing, pairs), got {got!r}",
          AGREEMENT_HINT)
    got = tuple(int(x) if isinstance(x, (int, np.integer)) else x for x in got)
    hint = AGREEMENT_HINT
    for text, wrong in agreement_mistakes(summary, paper, spread):
        if got != expected and got == wrong:
            hint = f"your answer is what {text} gives; {AGREEMENT_HINT}"
            break
    if got != expected:
        fail(f"pairwise_agreement: expected {expected}, got {got}", hint,
             f"  rows in both: {[r for r in paper if r in summary]}, paper_spread {spread}",
             expected=str(expected), got=str(got))


@pytest.mark.ex16_1
@given(table_case())
def test_pairwise_agreement_matches_library(case):
    grade_agreement(*case)


RECORDED = sorted(path for path in RESULTS.glob("*.json")
                  if {"summary", "paper"} <= set(json.loads(path.read_text())))


@pytest.mark.ex16_1
@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
def test_pairwise_agreement_on_the_recorded_tables(path):
    results = json.loads(path.read_text())
    grade_agreement(results["summary"], results["paper"], 0.235)


# ---- 16.2 ByT5's byte ids ---------------------------------------------------------------------

def byte_mistakes(text):
    raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.int64)
    points = np.array([ord(c) for c in text], dtype=np.int64)
    return [("the bytes without the offset of 3", np.append(raw, 1)),
            ("no EOS at the end", raw + 3),
            ("Unicode code points instead of UTF-8 bytes", np.append(points + 3, 1)),
            ("UTF-16 code units instead of UTF-8 bytes",
             np.append(np.frombuffer(text.encode("utf-16-le"), dtype=np.uint16)
                       .astype(np.int64) + 3, 1))]


BYTES_HINT = ("encode the text to UTF-8 (a letter outside ASCII is 2 to 4 bytes), shift every "
              "byte past the three special ids, and end with EOS")


def grade_bytes(text):
    __tracebackhide__ = True
    expected = reference("16.2")(text)
    got = byt5_encode(text)
    if got is not None and np.size(got) and not np.issubdtype(np.asarray(got).dtype,
                                                               np.integer):
        fail(f"byt5_encode returned dtype {np.asarray(got).dtype}; expected integer ids",
             "ids are whole numbers: return an integer array")
    check_equal("byt5_encode", None if got is None else np.asarray(got), expected, BYTES_HINT,
                {"text": text}, mistakes=byte_mistakes(text))


@pytest.mark.ex16_2
@given(st.text(max_size=40))
def test_byt5_encode_matches_library(text):
    grade_bytes(text)


@pytest.mark.ex16_2
@pytest.mark.parametrize("text", ["", "hello", "Grüße", "東京", "a🙂b", "tab\tnew\nline"])
def test_byt5_encode_worked_cases(text):
    grade_bytes(text)


@pytest.mark.ex16_2
def test_byt5_encode_refuses_bytes():
    check_raises(TypeError, lambda: byt5_encode(b"hello"),
                 "byt5_encode(b'hello')",
                 "the function takes text; a bytes object may not be UTF-8 at all: raise TypeError"
                 " saying to decode it first")


# ---- 16.3 mT5's language sampling, in passes over each language ------------------------------

@st.composite
def sizes_case(draw):
    n = draw(st.integers(1, 8))
    sizes = {f"lang{i}": draw(st.integers(1, 10**9)) for i in range(n)}
    return sizes, draw(st.integers(0, 10**12)), draw(st.sampled_from([0.3, 0.1, 0.5, 1.0, 2.0]))


def epochs_mistakes(sizes, total, alpha):
    n = np.array(list(sizes.values()), dtype=np.float64)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        power = n ** alpha
        return [("the rates p(L) themselves, not the passes", power / power.sum()),
                ("the expected number of examples drawn, p(L) * total_examples",
                 power / power.sum() * total),
                ("the exponent 1 / alpha (alpha is the exponent; 1 / alpha is a temperature)",
                 n ** (1 / alpha) / (n ** (1 / alpha)).sum() * total / n),
                ("|L| ** alpha without dividing by the total", power * total / n)]


EPOCHS_HINT = ("first the sampling rate of each language (sizes to the power alpha, "
               "normalised to sum to 1), then the examples drawn from it over the run, then "
               "how many times that covers its data")


def grade_epochs(sizes, total, alpha):
    __tracebackhide__ = True
    expected = reference("16.3")(sizes, total, alpha)
    got = language_epochs(sizes, total, alpha)
    check(isinstance(got, dict) and list(got) == list(expected),
          f"language_epochs must return a dict with the languages of sizes, in order; got "
          f"{got!r}", EPOCHS_HINT)
    check_array("language_epochs", np.array([got[k] for k in expected], dtype=np.float64),
                np.array(list(expected.values())), EPOCHS_HINT,
                {"sizes": sizes, "total_examples": total, "alpha": alpha}, what="the passes",
                mistakes=epochs_mistakes(sizes, total, alpha), rtol=1e-9, atol=1e-12)


@pytest.mark.ex16_3
@given(sizes_case())
def test_language_epochs_match_library(case):
    grade_epochs(*case)


@pytest.mark.ex16_3
def test_language_epochs_worked_case():
    # 10^8 English examples and 10^5 Yoruba ones, 10^9 draws at alpha 0.3: English is passed
    # over about 9 times, Yoruba about 1,100 times (1,000 to 1 by size, ~8 to 1 by rate).
    grade_epochs({"en": 10**8, "yo": 10**5}, 10**9, 0.3)


@pytest.mark.ex16_3
@pytest.mark.parametrize("sizes, total, alpha", [
    ({"en": 10}, 100, 0.0), ({"en": 10}, 100, -0.3), ({}, 100, 0.3),
    ({"en": 10, "de": 0}, 100, 0.3), ({"en": 10}, -1, 0.3)])
def test_language_epochs_refuse_bad_arguments(sizes, total, alpha):
    check_raises(ValueError, lambda: language_epochs(sizes, total, alpha),
                 f"language_epochs({sizes}, {total}, {alpha})",
                 "alpha must be > 0, every language needs at least one example to be passed over, "
                 "and a run draws a number of examples >= 0: raise ValueError naming the argument")
