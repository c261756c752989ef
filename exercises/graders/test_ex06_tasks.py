"""Graders for chapter 6 (text-to-text formats): the student's against minit5.data.tasks."""
import string

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check_equal

stsb_to_string = exercise("6.1")
string_to_stsb = exercise("6.2")
glue_format = exercise("6.3")



# ---- 6.1 STS-B score to text ----------------------------------------------------------------

STSB_HINT = ("f\"{round(x * 5) / 5 + 0.0:.1f}\": round sends halves to the even integer, and "
             "+ 0.0 turns a -0.0 (np.round(-0.25) is -0.0) into 0.0")
scores = st.floats(0.0, 5.0, allow_nan=False)
scores_as_read = st.one_of(scores, scores.map(np.float64))     # data often arrives from NumPy


@pytest.mark.ex6_1
@given(scores_as_read)
def test_stsb_to_string_matches_library(x):
    check_equal("stsb_to_string", stsb_to_string(x), reference("6.1")(x), STSB_HINT,
                inputs={"x": x})


@pytest.mark.ex6_1
@pytest.mark.parametrize("x", [0.0, 2.57, 0.5, 1.5, 0.1, 0.3, 4.9, 5.0, 3.0, -0.0,
                               np.float64(2.5), np.float64(-0.0), np.float64(-0.05)])
def test_stsb_to_string_rounding(x):
    check_equal("stsb_to_string", stsb_to_string(x), reference("6.1")(x), STSB_HINT,
                inputs={"x": x})


# ---- 6.2 text back to a score ---------------------------------------------------------------

STRING_HINT = ("try: value = float(s.strip()) except ValueError: return None; and return None "
               "for nan and inf too (math.isfinite)")
outputs = st.one_of(
    scores.map(lambda x: reference("6.1")(x)),
    st.sampled_from(["2.6", " 3.0 ", "5", "-1.2", "1e1", "nan", "NaN", "inf", "-inf",
                     "Infinity", "", "   ", "entailment", "2.6.", "2,6", "two", "0x10", ".5"]),
    st.text(alphabet=string.ascii_letters + string.digits + " .+-e", max_size=8),
)


@pytest.mark.ex6_2
@given(outputs)
def test_string_to_stsb_matches_library(s):
    check_equal("string_to_stsb", string_to_stsb(s), reference("6.2")(s), STRING_HINT,
                inputs={"s": s})


# ---- 6.3 GLUE formatting --------------------------------------------------------------------

GLUE_HINT = ("\" \".join([task] + [f\"{key}: {fields[key]}\" for key in sorted(fields)]): keys "
             "in sorted order, whatever order the dict has")
keys = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=10)
values = st.text(alphabet=string.ascii_letters + string.digits + " .,?!'", max_size=30)
tasks = st.sampled_from(["mnli", "cola", "sst2", "qqp", "rte", "stsb", "wnli", "qnli", "mrpc"])


@pytest.mark.ex6_3
@given(tasks, st.dictionaries(keys, values, min_size=1, max_size=4))
def test_glue_format_matches_library(task, fields):
    check_equal("glue_format", glue_format(task, fields), reference("6.3")(task, fields),
                GLUE_HINT, inputs={"task": task, "fields": fields})


@pytest.mark.ex6_3
def test_glue_format_mnli_example():
    fields = {"premise": "A man is playing.", "hypothesis": "Someone plays."}
    check_equal("glue_format", glue_format("mnli", fields), reference("6.3")("mnli", fields),
                GLUE_HINT, inputs={"task": "mnli", "fields": fields})
