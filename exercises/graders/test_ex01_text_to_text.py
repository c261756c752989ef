"""Graders for chapter 1 (text to text): the student's against minit5.data.tasks."""
import math
import string

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check_equal
from minit5.data.tasks import LABEL_NAMES

stsb_to_string = exercise("1.1")
string_to_stsb = exercise("1.2")
string_to_label = exercise("1.3")


# ---- 1.1 STS-B score to text ----------------------------------------------------------------

def stsb_mistakes(x):
    return [
        ("rounding to one decimal instead of to a multiple of 0.2", lambda: f"{x:.1f}"),
        ("rounding halves up (floor(5x + 0.5)) instead of to the even neighbour",
         lambda: f"{math.floor(x * 5 + 0.5) / 5:.1f}"),
        ("printing without one fixed decimal", lambda: str(round(x * 5) / 5)),
        ("keeping the sign of a negative zero", lambda: f"{round(x * 5) / 5:.1f}"),
    ]


STSB_HINT = ("the text is the nearest multiple of 0.2 with exactly one decimal; Python's round "
             "sends x.5 to the even integer, and a score never prints as -0.0")
scores = st.floats(0.0, 5.0, allow_nan=False)
scores_as_read = st.one_of(scores, scores.map(np.float64),      # data often arrives from NumPy
                           scores.map(np.float32))


def check_stsb(x):
    expected = reference("1.1")(x)
    check_equal("stsb_to_string", stsb_to_string(x), expected, STSB_HINT, inputs={"x": x},
                mistakes=stsb_mistakes(x))


@pytest.mark.ex1_1
@given(scores_as_read)
def test_stsb_to_string_matches_library(x):
    check_stsb(x)


@pytest.mark.ex1_1
@pytest.mark.parametrize("x", [0.0, 2.57, 0.5, 1.5, 0.1, 0.3, 0.7, 4.9, 5.0, 3.0, -0.0,
                               np.float64(2.5), np.float64(-0.0), np.float64(-0.05)])
def test_stsb_to_string_rounding(x):
    check_stsb(x)


# ---- 1.2 text back to a score ---------------------------------------------------------------

STRING_HINT = ("a string is a score only if float() accepts it (after stripping whitespace) "
               "and the value is finite; anything else is None, never an exception")
outputs = st.one_of(
    scores.map(lambda x: reference("1.1")(x)),
    st.sampled_from(["2.6", " 3.0 ", "5", "-1.2", "1e1", "1e400", "nan", "NaN", "inf", "-inf",
                     "Infinity", "", "   ", "entailment", "2.6.", "2,6", "two", "0x10", ".5",
                     "\t4.2\n", "1_0"]),
    st.text(alphabet=string.ascii_letters + string.digits + " .+-e_", max_size=8),
)


def check_string_to_stsb(s):
    __tracebackhide__ = True
    expected = reference("1.2")(s)
    squeezed = "".join(s.split())
    check_equal("string_to_stsb", string_to_stsb(s), expected, STRING_HINT, inputs={"s": s},
                mistakes=[("returning nan or inf as a score",
                           lambda: float(s) if s.strip() and not math.isfinite(
                               float(s)) else "not this mistake"),
                          ("removing the spaces inside the text, which joins two numbers "
                           "into one", lambda: float(squeezed) if squeezed != s.strip()
                           else "not this mistake")])


@pytest.mark.ex1_2
@given(outputs)
def test_string_to_stsb_matches_library(s):
    check_string_to_stsb(s)


# The holes a grader must not leave open, pinned: inner spaces (two numbers are not one),
# Unicode digits and spaces that float() accepts, underscores between digits.
@pytest.mark.ex1_2
@pytest.mark.parametrize("s", ["1 2", "3 .5", "4.2 5", "- 1", "2. 6", "1 e1", "\u00a03.0\u2003",
                               "\u0663.\u0665", "\uff12.\uff16", "1_0", "1__0", "_1", "3.0\n\n",
                               "", "\u2003"])
def test_string_to_stsb_pinned_cases(s):
    check_string_to_stsb(s)


# ---- 1.3 label word back to its class -------------------------------------------------------

LABEL_HINT = ("look the stripped output up among LABEL_NAMES[task], whose order is the class "
              "order; anything that is not exactly one of them is None")
tasks = st.sampled_from(sorted(LABEL_NAMES))


@st.composite
def label_outputs(draw):
    task = draw(tasks)
    word = draw(st.sampled_from(LABEL_NAMES[task]))
    other = draw(st.sampled_from(sorted({w for names in LABEL_NAMES.values() for w in names})))
    s = draw(st.sampled_from([word, f" {word} ", f"{word}\n", word.capitalize(), word.upper(),
                              other, f"not {word}", word + ".", "", "  "]))
    return task, draw(st.one_of(st.just(s), st.text(string.ascii_lowercase + " _", max_size=6),
                                st.text(max_size=6)))          # any Unicode text


@pytest.mark.ex1_3
@given(label_outputs())
def test_string_to_label_matches_library(case):
    task, s = case
    expected = reference("1.3")(task, s)
    names = LABEL_NAMES[task]
    check_equal("string_to_label", string_to_label(task, s), expected, LABEL_HINT,
                inputs={"task": task, "s": s},
                mistakes=[("ignoring case", lambda: next(
                              (i for i, n in enumerate(names) if n == s.strip().lower()), None)),
                          ("not stripping whitespace",
                           lambda: names.index(s) if s in names else None)])


@pytest.mark.ex1_3
@pytest.mark.parametrize("task, s", [("mnli", "entailment\u00a0"), ("mnli", "\u2003neutral"),
                                     ("mnli", "Entailment"), ("mnli", "entail_ment"),
                                     ("mnli", "ENTAILMENT"), ("mnli", "entaılment"),
                                     ("mnli", "contradiction."), ("mnli", "")])
def test_string_to_label_pinned_cases(task, s):
    expected = reference("1.3")(task, s)
    check_equal("string_to_label", string_to_label(task, s), expected, LABEL_HINT,
                inputs={"task": task, "s": s})


@pytest.mark.ex1_3
def test_string_to_label_refuses_an_unknown_task():
    try:
        string_to_label("no_such_task", "entailment")
    except KeyError as err:
        check_equal("string_to_label", "no_such_task" in str(err), True,
                    "the KeyError's message must name the unknown task",
                    inputs={"task": "no_such_task", "s": "entailment"},
                    what="whether the error names the task")
        return
    check_equal("string_to_label", "returned", "raised KeyError",
                "a task that has no label names is the caller's mistake: raise a KeyError "
                "that names it", inputs={"task": "no_such_task", "s": "entailment"})
