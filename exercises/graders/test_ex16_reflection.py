"""Graders for chapter 16 (reflection): each compares the student's function with the library's
(`minit5.experiments.verdicts.pairwise_agreement`, `minit5.reference.byte_tokenizer.byt5_decode`,
and `minit5.reference.language_sampling.alpha_for_max_epochs`)."""
import itertools
import json
import pathlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check, check_equal, check_raises, fail, mistake_hint

pairwise_agreement = exercise("16.1")
byt5_decode = exercise("16.2")
alpha_for_max_epochs = exercise("16.3")

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
    got = pairwise_agreement.with_defaults(summary, paper, paper_spread=spread)
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


# Pinned: no rows, one row, a row only the paper has, gaps of both signs against the paper's
# (the miniature below where the paper is above), a zero spread that makes any gap count.
@pytest.mark.ex16_1
@pytest.mark.parametrize("summary, paper, spread", [
    ({}, {}, 0.235),
    ({"a": {"mean": 50.0, "std": 1.0}}, {"a": 80.0}, 0.235),
    ({"a": {"mean": 50.0, "std": 1.0}}, {"a": 80.0, "b": 81.0}, 0.235),
    ({"a": {"mean": 50.0, "std": 0.5}, "b": {"mean": 55.0, "std": 0.5}},
     {"a": 83.0, "b": 80.0}, 0.235),
    ({"a": {"mean": 55.0, "std": 0.5}, "b": {"mean": 50.0, "std": 0.5}},
     {"a": 83.0, "b": 80.0}, 0.235),
    ({"a": {"mean": 50.0, "std": 0.0}, "b": {"mean": 50.25, "std": 0.0}},
     {"b": 80.0, "a": 80.1}, 0.0)])
def test_pairwise_agreement_pinned_cases(summary, paper, spread):
    grade_agreement(summary, paper, spread)


RECORDED = sorted(path for path in RESULTS.glob("*.json")
                  if {"summary", "paper"} <= set(json.loads(path.read_text())))


@pytest.mark.ex16_1
@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
def test_pairwise_agreement_on_the_recorded_tables(path):
    results = json.loads(path.read_text())
    grade_agreement(results["summary"], results["paper"], 0.235)


# ---- 16.2 ByT5's ids back to text ------------------------------------------------------------

def _encode(text):
    return np.append(np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.int64) + 3, 1)


def _bytes_of(ids):
    ids = np.asarray(ids, dtype=np.int64)
    return bytes((ids[(ids >= 3) & (ids < 259)] - 3).astype(np.uint8).tolist())


def decode_mistakes(ids):
    ids = np.asarray(ids, dtype=np.int64)
    raw = _bytes_of(ids)
    first_eos = np.flatnonzero(ids == 1)
    return [("dropping invalid bytes (errors='ignore') instead of writing U+FFFD",
             lambda: raw.decode("utf-8", errors="ignore")),
            ("one character per id (chr(id - 3)), not UTF-8 bytes",
             lambda: "".join(chr(i - 3) for i in ids.tolist() if 3 <= i < 259)),
            ("stopping at the first EOS",
             lambda: _bytes_of(ids[:first_eos[0]] if len(first_eos) else ids)
             .decode("utf-8", errors="replace")),
            ("keeping the sentinels' ids as bytes (id - 3 mod 256)",
             lambda: bytes(((ids[ids >= 3] - 3) % 256).astype(np.uint8).tolist())
             .decode("utf-8", errors="replace")),
            ("decoding each id's byte on its own (every byte of a multi-byte letter invalid)",
             lambda: "".join(bytes([b]).decode("utf-8", errors="replace") for b in raw))]


DECODE_HINT = ("only the byte ids (3 to 258) carry text, wherever specials and sentinels "
               "fall; a letter outside ASCII spans several bytes, and a byte sequence that is "
               "not valid UTF-8 becomes U+FFFD, not nothing")


def grade_decode(ids):
    __tracebackhide__ = True
    expected = reference("16.2")(ids)
    got = byt5_decode(ids)
    check(isinstance(got, str), f"byt5_decode returned {type(got).__name__}, not a str",
          "return the decoded text (a str)", expected=expected, got=got)
    check_equal("byt5_decode", got, expected, DECODE_HINT, {"ids": np.asarray(ids)},
                what="the text", mistakes=decode_mistakes(ids))


TEXTS = st.text(alphabet=st.characters(codec="utf-8"), max_size=30) | st.sampled_from(
    ["snake_case_name", "Grüße_aus_Köln", "東京_2020", "a🙂b_c", "ß\u0301", "\x00\t\n"])


@st.composite
def decode_case(draw):
    ids = _encode(draw(TEXTS))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    for change in draw(st.lists(st.sampled_from(
            ["special", "sentinel", "cut", "stray byte", "random bytes"]), max_size=3)):
        at = int(rng.integers(0, len(ids) + 1))
        if change == "special":
            ids = np.insert(ids, at, int(rng.integers(0, 3)))
        elif change == "sentinel":
            ids = np.insert(ids, at, int(rng.integers(259, 384)))
        elif change == "cut":
            ids = ids[:at]
        elif change == "stray byte":                    # a continuation byte on its own
            ids = np.insert(ids, at, int(rng.integers(0x80, 0xC0)) + 3)
        else:
            ids = np.insert(ids, at, rng.integers(3, 259, size=int(rng.integers(1, 5))))
    kind = draw(st.sampled_from(["int64", "int32", "list"]))
    return ids.tolist() if kind == "list" else ids.astype(kind)


@pytest.mark.ex16_2
@given(decode_case())
def test_byt5_decode_matches_library(ids):
    grade_decode(ids)


# The cases the docstring names, pinned: the empty sequence, EOS alone, a text with `_`, an
# EOS and a sentinel in the middle, a two-byte letter cut after its first byte, a four-byte
# emoji cut after two, a stray continuation byte, and an id list.
DECODE_CASES = [np.array([], dtype=np.int64), np.array([1]), _encode("snake_case"),
                np.concatenate([_encode("ab")[:-1], [1, 383], _encode("cd")]),
                _encode("Grüße")[:3], _encode("🙂")[:3], np.array([0x80 + 3, 100]),
                [3 + ord("h"), 3 + ord("i"), 1, 0, 0]]


@pytest.mark.ex16_2
@pytest.mark.parametrize("ids", DECODE_CASES, ids=range(len(DECODE_CASES)))
def test_byt5_decode_worked_cases(ids):
    grade_decode(ids)


@pytest.mark.ex16_2
@pytest.mark.parametrize("ids, problem", [(np.ones((2, 3), dtype=np.int64), "a 2-D array"),
                                          (np.array([3.5, 4.0]), "float ids")])
def test_byt5_decode_refuses_bad_ids(ids, problem):
    check_raises(ValueError, lambda: byt5_decode(ids), f"byt5_decode({problem})",
                 "ids are one sequence of whole numbers; raise ValueError for anything else")


# ---- 16.3 the alpha that bounds the repeats ------------------------------------------------------

def _most_passes(sizes, total, alpha):
    n = np.array(list(sizes.values()), dtype=np.float64)
    power = n ** alpha
    return float((power / power.sum() * total / n).max())


def alpha_mistakes(sizes, total, most):
    expected = reference("16.3")(sizes, total, most)
    return [("1 / alpha (a temperature) instead of alpha",
             lambda: 1 / expected if expected else None),
            ("the largest alpha at which the repeats stay bounded (1.0), not the smallest",
             lambda: 1.0)]


ALPHA_HINT = ("check which language repeats most and which way its passes move as alpha "
              "grows, how precisely your alpha meets max_epochs (to 1e-9), and the case where "
              "alpha = 0 is already within the bound")


def grade_alpha(sizes, total, most):
    __tracebackhide__ = True
    expected = reference("16.3")(sizes, total, most)
    got = alpha_for_max_epochs(sizes, total, most)
    hint = ALPHA_HINT
    ok = isinstance(got, (int, float, np.floating)) and not isinstance(got, bool) \
        and 0 <= got <= 1
    if ok and expected == 0.0:
        ok = got == 0.0
    elif ok:
        ok = bool(np.isclose(_most_passes(sizes, total, float(got)), most, rtol=1e-9, atol=0))
    if not ok:
        hint = mistake_hint(got, alpha_mistakes(sizes, total, most), hint,
                            lambda a, b: b is not None and np.isclose(a, b, rtol=1e-6))
        passes = (_most_passes(sizes, total, float(got))
                  if isinstance(got, (int, float, np.floating)) else None)
        fail(f"alpha_for_max_epochs({sizes}, {total}, {most}) returned {got!r} (the most "
             f"repeated language passed over {passes!r} times), expected {expected!r}", hint,
             expected=repr(expected), got=repr(got))


@st.composite
def alpha_case(draw):
    n = draw(st.integers(1, 8))
    sizes = {f"lang{i}": draw(st.integers(1, 10**9)) for i in range(n)}
    total = draw(st.integers(0, 10**13))
    low, high = _most_passes(sizes, total, 1.0), _most_passes(sizes, total, 0.0)
    # Inside (not on) the reachable range; past 1: alpha = 0 is already within the bound.
    where = draw(st.one_of(st.floats(1e-6, 1 - 1e-6), st.floats(1 + 1e-6, 1.2)))
    most = low + where * (high - low) if high > low else high * draw(st.floats(1.0, 3.0))
    return sizes, total, max(most, 1e-9)


@pytest.mark.ex16_3
@given(alpha_case())
def test_alpha_for_max_epochs_matches_library(case):
    grade_alpha(*case)


@pytest.mark.ex16_3
@pytest.mark.parametrize("sizes, total, most", [
    ({"en": 10**8, "yo": 10**5}, 10**9, 100),         # Yoruba at most 100 passes
    ({"en": 10**6, "sw": 10**3}, 2 * 10**6, 100),
    ({"en": 10**6, "sw": 10**3}, 2 * 10**6, 10**4),     # alpha = 0 is within the bound
    ({"en": 5, "de": 5}, 10, 1),                       # equal sizes: any alpha, so 0.0
    ({"only": 7}, 70, 10),                             # one language: 10 passes whatever
    ({"en": 10**9, "de": 10**8, "fr": 10**7, "yo": 10}, 10**12, 10**6)])
def test_alpha_for_max_epochs_worked_cases(sizes, total, most):
    grade_alpha(sizes, total, most)


@pytest.mark.ex16_3
@pytest.mark.parametrize("sizes, total, most, problem", [
    ({"en": 10, "yo": 1}, 1000, 5, "a run too long for the data even at alpha = 1"),
    ({"en": 10}, 100, 0, "max_epochs = 0"), ({}, 100, 3, "no languages"),
    ({"en": 10, "de": 0}, 100, 50, "a language with no examples"),
    ({"en": 10}, -1, 3, "a negative number of draws")])
def test_alpha_for_max_epochs_refuses_bad_arguments(sizes, total, most, problem):
    check_raises(ValueError, lambda: alpha_for_max_epochs(sizes, total, most),
                 f"alpha_for_max_epochs with {problem}",
                 "when no alpha in [0, 1] keeps the repeats within max_epochs, or an argument "
                 "is out of its range, raise ValueError saying which")
