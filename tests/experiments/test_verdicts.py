"""Verdicts: a miniature row against its reference, in the miniature and in the paper."""
import itertools
import json
import pathlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minit5.experiments import verdicts
from minit5.experiments.verdicts import (
    direction,
    item_verdict,
    pairwise_agreement,
    reference_row,
    row_verdict,
    table_verdicts,
)

RESULTS = pathlib.Path(__file__).resolve().parents[2] / "experiments" / "results"


def test_direction_is_strict_at_the_bar():
    assert direction(1.0, 0.5) == "above" and direction(-1.0, 0.5) == "below"
    assert direction(0.5, 0.5) == "level" and direction(-0.5, 0.5) == "level"
    assert direction(0.0, 0.0) == "level"
    with pytest.raises(ValueError, match="twice a spread"):
        direction(1.0, -0.1)


def test_reference_row_is_the_star_baseline_else_the_paper_best():
    assert reference_row({"a": 82.0, "★": 83.28, "c": 85.0}) == "★"
    assert reference_row({"prefix LM": 80.69, "BERT-style": 82.96, "deshuffling": 73.17}) \
        == "BERT-style"
    with pytest.raises(ValueError, match="no paper numbers"):
        reference_row({})


def test_row_verdict_worked_example():
    # Miniature: 58.2 +- 1.0 vs 53.8 +- 0.3: gap 4.4 > 2 x 1.0, above. Paper: 81.27 vs 83.28,
    # gap -2.01 < -0.47, below. The two disagree.
    summary = {"50%": {"mean": 58.2, "std": 1.0}, "15%": {"mean": 53.8, "std": 0.3}}
    paper = {"50%": 81.27, "15%": 83.28}
    v = row_verdict(summary, paper, "50%", "15%")
    assert v["miniature"] == "above" and v["paper"] == "below" and v["agrees"] is False
    assert v["miniature_gap"] == pytest.approx(4.4) and v["miniature_bar"] == pytest.approx(2.0)
    assert v["paper_gap"] == pytest.approx(-2.01) and v["paper_bar"] == pytest.approx(0.47)


def test_both_level_agrees_and_missing_rows_are_named():
    summary = {"a": {"mean": 50.0, "std": 1.0}, "b": {"mean": 50.5, "std": 1.0}}
    assert row_verdict(summary, {"a": 83.28, "b": 83.0}, "b", "a")["agrees"] is True
    with pytest.raises(KeyError, match="no row 'c'"):
        row_verdict(summary, {"a": 1.0, "c": 2.0}, "c", "a")
    with pytest.raises(KeyError, match="no number for 'b'"):
        row_verdict(summary, {"a": 1.0}, "b", "a")


def test_pairwise_agreement_counts_every_pair_once():
    summary = {r: {"mean": m, "std": 0.1} for r, m in (("a", 50), ("b", 55), ("c", 60))}
    # Paper order a < b < c as well, each gap above 0.47: all three pairs agree.
    assert pairwise_agreement(summary, {"a": 80.0, "b": 81.0, "c": 82.0}) == (3, 3)
    # c level with a in the paper: (a, c) and (b, c) disagree, (a, b) agrees.
    assert pairwise_agreement(summary, {"a": 80.0, "b": 81.0, "c": 80.2}) == (1, 3)
    # Rows missing on either side are left out; one row left: no pairs.
    assert pairwise_agreement(summary, {"a": 80.0, "z": 81.0}) == (0, 0)


def test_pairwise_agreement_is_row_verdict_over_all_pairs_of_a_recorded_table():
    results = json.loads((RESULTS / "table7.json").read_text())
    summary, paper = results["summary"], results["paper"]
    rows = [r for r in paper if r in summary]
    expected = sum(row_verdict(summary, paper, a, b)["agrees"]
                   for a, b in itertools.combinations(rows, 2))
    assert pairwise_agreement(summary, paper) == (expected, len(rows) * (len(rows) - 1) // 2)


def test_table_verdicts_of_a_recorded_table_leave_out_the_reference():
    results = json.loads((RESULTS / "table6.json").read_text())
    got = table_verdicts(results)
    assert set(got) == set(results["paper"]) - {"15%"}
    assert all(v["paper_bar"] == pytest.approx(2 * verdicts.PAPER_SPREAD) for v in got.values())


def _plain_direction(gap, bar):
    """The chapters' rule written out, independently of the library."""
    return "above" if gap > bar else "below" if gap < -bar else "level"


@given(st.floats(-100, 100), st.floats(0, 50))
def test_direction_through_the_statistics_module_is_the_plain_rule(gap, bar):
    assert direction(gap, bar) == _plain_direction(gap, bar)
    assert direction(gap, 0.0) == _plain_direction(gap, 0.0)
    assert direction(bar, bar) == "level" and direction(-bar, bar) == "level"


RECORDED = sorted(path for path in RESULTS.glob("*.json")
                  if {"summary", "paper"} <= set(json.loads(path.read_text())))


def test_the_recorded_tables_are_found():
    assert len(RECORDED) >= 12, [p.name for p in RECORDED]


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
def test_recorded_verdicts_are_the_two_spread_rule_of_the_chapters(path):
    results = json.loads(path.read_text())
    summary, paper = results["summary"], results["paper"]
    for row, v in table_verdicts(results).items():
        ref = reference_row({r: p for r, p in paper.items() if r in summary})
        gap = summary[row]["mean"] - summary[ref]["mean"]
        bar = 2 * max(summary[row]["std"], summary[ref]["std"])
        assert v["miniature"] == _plain_direction(gap, bar)
        assert v["paper"] == _plain_direction(paper[row] - paper[ref], 2 * 0.235)
        assert v["agrees"] == (v["agreement"] == "agrees")


def test_row_verdict_names_opposite_directions():
    summary = {"50%": {"mean": 58.2, "std": 1.0}, "15%": {"mean": 53.8, "std": 0.3}}
    v = row_verdict(summary, {"50%": 81.27, "15%": 83.28}, "50%", "15%")
    assert v["agreement"] == "opposite"                 # miniature above, paper below
    v = row_verdict(summary, {"50%": 83.5, "15%": 83.28}, "50%", "15%")
    assert v["paper"] == "level" and v["agreement"] == "differs"


def test_item_verdict_reads_per_item_scores_by_the_full_rule():
    rng = np.random.default_rng(0)
    reference = (rng.random((3, 500)) < 0.5) * 100.0
    row = np.where(rng.random((3, 500)) < 0.3, 100.0, reference)    # ~15 points more right
    v = item_verdict(row, reference, paper_gap=8.0, rng=np.random.default_rng(1))
    assert v["miniature"] == "above" and v["paper"] == "above" and v["agrees"] is True
    assert v["miniature_low"] > 0 and 0 < v["mdd"] < 8.0
    assert v["miniature_gap"] == pytest.approx(row.mean() - reference.mean())
    v = item_verdict(row, reference, paper_gap=-8.0, rng=np.random.default_rng(1))
    assert v["agreement"] == "opposite" and v["agrees"] is False
    # A paper gap smaller than the miniature's MDD is not read, whatever the miniature shows.
    v = item_verdict(row, reference, paper_gap=0.3, rng=np.random.default_rng(1))
    assert v["mdd"] > 0.3 and v["agreement"] == "cannot be seen at this scale"
    # Identical rows: exactly level, and a paper gap above the MDD of 0 is read as level.
    v = item_verdict(reference, reference, paper_gap=-2.01, rng=np.random.default_rng(1))
    assert v["miniature_gap"] == 0 and v["mdd"] == 0 and v["miniature"] == "level"
    assert v["agreement"] == "differs"                  # the paper sees a gap, level here
