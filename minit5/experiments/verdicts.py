"""Does a miniature agree with the paper? The verdict rule of `minit5.experiments.statistics`
applied to a results file's rows and the paper's numbers.

A row of a paper-table miniature is read against its table's reference row: the paper's
baseline (★, GLUE 83.28 in every table that has it, §3.1.5) or, in a table without it (Table 4),
the row the paper scores best. Each side of the comparison gets a direction:

  miniature   from per-seed averages (every results file recorded so far): the gap of the two
              rows' seed means, read through the interval gap +- twice the larger of their seed
              spreads (`statistics.seed_interval`, `core.summary`'s sample standard deviations);
              from per-item scores (`item_verdict`): the paired difference, its two-way
              bootstrap interval over seeds and test items and its minimum detectable difference;
  paper       the gap of the paper's two numbers read through gap +- twice the paper's
              run-to-run spread, the baseline's GLUE standard deviation over 10 runs, 0.235
              (Table 1): the paper itself warns that differences of that size are noise.

A direction is "above" (the interval above 0), "below" (below 0) or "level" (holding 0), and,
with per-item scores only, "cannot be seen at this scale" (level, but the paper's gap is smaller
than the miniature's minimum detectable difference). A row agrees with the paper when the two
directions are equal; "both level" counts as agreeing. Rows the paper gives no number for have
no verdict. From per-seed averages the verdict leaves out the test items' sampling error, the
pairing of the rows' seeds, pre-training variance where one pre-trained model serves every
seed, and the roughness of a spread from three seeds (the statistics module lists them).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from minit5.experiments import statistics

PAPER_SPREAD = statistics.PAPER_SIGMA   # the baseline's GLUE std over 10 runs (Table 1)
PAPER_BASELINE = 83.28      # the ★ row's GLUE average (Table 1), the same in every table
DIRECTIONS = ("above", "level", "below")


def direction(gap: float, bar: float) -> str:
    """"above" if gap > bar, "below" if gap < -bar, else "level" (bar >= 0): the verdict rule
    on the interval gap +- bar, which is above 0 exactly when gap > bar."""
    if not bar >= 0:
        raise ValueError(f"direction: the bar is twice a spread, a number >= 0; got {bar!r}")
    return statistics.verdict(gap - bar, gap + bar)


def reference_row(paper: Mapping[str, float]) -> str:
    """The row a table is read against: the paper's ★ baseline (GLUE 83.28) if the table has
    it, else the row with the paper's highest number (the first of equals)."""
    if not paper:
        raise ValueError("reference_row: the table has no paper numbers to choose from")
    for row, value in paper.items():
        if round(float(value), 2) == PAPER_BASELINE:
            return row
    return max(paper, key=lambda row: paper[row])


def row_verdict(summary: Mapping[str, Mapping[str, float]], paper: Mapping[str, float],
                row: str, reference: str, paper_spread: float = PAPER_SPREAD) -> dict:
    """Row against row `reference`, in the miniature and in the paper.

    summary: {row: {"mean", "std"}} (a results file's "summary"); paper: {row: number}.
    Returns {"miniature_gap", "miniature_bar", "miniature", "paper_gap", "paper_bar", "paper",
    "agreement", "agrees"}; the gaps are row minus reference, the bars twice the spreads,
    "agreement" `statistics.paper_agreement` ("agrees", "opposite" or "differs") and "agrees"
    whether the two directions are equal.
    """
    for name in (row, reference):
        if name not in summary:
            raise KeyError(f"row_verdict: no row {name!r} in the summary; it has "
                           f"{', '.join(map(repr, summary))}")
        if name not in paper:
            raise KeyError(f"row_verdict: the paper gives no number for {name!r}; only rows "
                           f"with a paper number have a verdict")
    s, base = summary[row], summary[reference]
    mini_gap = float(s["mean"]) - float(base["mean"])
    low, high = statistics.seed_interval(mini_gap, s["std"], base["std"])
    mini_bar = 2 * max(float(s["std"]), float(base["std"]))
    paper_gap = float(paper[row]) - float(paper[reference])
    mini = statistics.verdict(low, high)
    pap = statistics.paper_direction(paper_gap, float(paper_spread))
    return {"miniature_gap": mini_gap, "miniature_bar": mini_bar, "miniature": mini,
            "paper_gap": paper_gap, "paper_bar": 2 * float(paper_spread), "paper": pap,
            "agreement": statistics.paper_agreement(paper_gap, mini, sigma=float(paper_spread)),
            "agrees": mini == pap}


def item_verdict(row_scores, reference_scores, paper_gap: float, rng: np.random.Generator,
                 paper_spread: float = PAPER_SPREAD, n_resamples: int = 1000) -> dict:
    """A row against its reference from per-item scores, by the full rule.

    row_scores, reference_scores: (S, N) per-item scores for each seed, or {task: (S, N_t)}
    for a suite, the same seeds and test items in both; paper_gap: the paper's row minus its
    reference. Returns {"miniature_gap", "miniature_low", "miniature_high", "mdd",
    "miniature", "paper_gap", "paper_bar", "paper", "agreement", "agrees"}: the paired
    difference with its 95% interval and MDD (`statistics.compare`, the paper's gap as the
    effect in question), the paper's direction, and `statistics.paper_agreement`.
    """
    c = statistics.compare(row_scores, reference_scores, rng, effect=float(paper_gap),
                           n_resamples=n_resamples)
    pap = statistics.paper_direction(float(paper_gap), float(paper_spread))
    agreement = statistics.paper_agreement(float(paper_gap), c["verdict"], c["mdd"],
                                           float(paper_spread))
    return {"miniature_gap": c["mean"], "miniature_low": c["low"], "miniature_high": c["high"],
            "mdd": c["mdd"], "miniature": c["verdict"], "paper_gap": float(paper_gap),
            "paper_bar": 2 * float(paper_spread), "paper": pap, "agreement": agreement,
            "agrees": agreement == statistics.AGREES}


def table_verdicts(results: Mapping, paper_spread: float = PAPER_SPREAD) -> dict:
    """{row: row_verdict(...)} for every row of a results file with a paper number, the
    reference row left out, read against `reference_row(results["paper"])`."""
    paper = {row: value for row, value in results["paper"].items()
             if row in results["summary"]}
    if not paper:
        return {}
    reference = reference_row(paper)
    return {row: row_verdict(results["summary"], paper, row, reference, paper_spread)
            for row in paper if row != reference}


def pairwise_agreement(summary: Mapping[str, Mapping[str, float]], paper: Mapping[str, float],
                       paper_spread: float = PAPER_SPREAD) -> tuple[int, int]:
    """Every pair of rows, not only each row against the reference: (agreeing, pairs).

    The pairs are the unordered pairs (a, b) of distinct rows that are in both `summary` and
    `paper`, a before b in `paper`'s order; a pair agrees when `row_verdict(summary, paper, a,
    b, paper_spread)` does. With fewer than two such rows there are no pairs: (0, 0).
    """
    rows = [row for row in paper if row in summary]
    agreeing = pairs = 0
    for i, a in enumerate(rows):
        for b in rows[i + 1:]:
            pairs += 1
            agreeing += row_verdict(summary, paper, a, b, paper_spread)["agrees"]
    return agreeing, pairs
