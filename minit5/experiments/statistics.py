"""How sure a comparison of two rows is, and the one verdict rule every table, chapter and
scorecard reads its rows with.

**Scores.** A row is scored item by item for each seed: `scores[s, i]`, shape (S, N), the score
of seed s on test item i (1/0 correctness, or a per-item score such as ROUGE-L). Every number
returned is in the units given: pass 100 x correctness for points. Every seed is scored on the
same N test items, so column i is one item in every seed. A suite is a mapping {task: (S, N_t)}
with the same S seeds in every task; its score is the unweighted mean of its tasks' means, as
the paper's GLUE average is of its tasks:

    mean = (1/T) sum_t (1/(S N_t)) sum_s sum_i x_t[s, i].

**Interval (two-way bootstrap).** A score is uncertain twice: over seeds (the luck of training)
and over test items (the test set is one sample of items like them). Each of R resamples draws,
with replacement, N_t items for each task (in the mapping's order) and then S seeds, and takes
the mean above over the drawn seeds x the drawn items; the 95% interval is the 2.5% and 97.5%
quantiles of the R means (Efron's percentile bootstrap; `np.quantile`, linear interpolation).
One item draw serves every drawn seed: every seed is scored on the same items, so their
sampling error is in every seed's score alike and no number of seeds reduces it; drawing items
afresh for each seed would shrink it by a factor sqrt(S). With one seed the interval is the
item bootstrap of `bootstrap_interval`.

**Paired difference.** Two rows scored with the same seeds on the same items are compared
through d = a - b, item by item and seed by seed, resampled with the same draws, so what the
rows share (a seed's training sample, an item's difficulty) cancels. Identical rows differ by
exactly 0, with a zero-width interval.

**Standard error and minimum detectable difference (MDD).** The two-way analysis of variance
without replication, x[s, i] = mu + seed_s + item_i + residual, estimated from the expected
mean squares: with MS_seed = N var_s(seed means), MS_item = S var_i(item means) and
MS_res = sum of squared residuals / ((S-1)(N-1)),

    v_res = MS_res,
    v_seed = max(0, (MS_seed - MS_res) / N),   v_item = max(0, (MS_item - MS_res) / S),
    SE(S', N')^2 = v_seed / S' + v_item / N' + v_res / (S' N')

for a design of S' seeds and N' items (observed or planned). In a suite of T tasks, with m_s
the suite mean of seed s, v_seed = max(0, var_s(m_s) - (1/T^2) sum_t v_res_t / N_t) and

    SE^2 = v_seed / S' + (1/T^2) sum_t (v_item_t / N'_t + v_res_t / (S' N'_t)).

The MDD is the true difference a two-sided test at 5% finds with 80% power:

    MDD = (z_0.975 + z_0.80) SE = (1.960 + 0.842) SE = 2.80 SE.

**The verdict rule.** A row is read against its reference through the paired difference, its
95% interval [low, high], its MDD and the size of the effect in question, e (for a paper-table
row: the paper's own gap):

- "above" when low > 0, "below" when high < 0: the miniature sees a difference;
- otherwise the interval holds 0, and the verdict is "level" when |e| >= MDD (a difference of
  that size would have been seen four times in five, and was not), or "cannot be seen at this
  scale" when |e| < MDD (the miniature could not have told). With no effect in question, an
  interval that holds 0 is "level".

**Against the paper.** The paper trains its baseline 10 times (Table 1): GLUE standard
deviation sigma = 0.235; its rule, used for every table, is that a gap within 2 sigma is noise.
The paper's direction is the same reading of the interval gap +- 2 sigma: above, below or level.
A row "agrees" when the paper's direction and the miniature's verdict are equal, is "opposite"
when one is above and the other below, "differs" otherwise, and "cannot be seen at this scale"
(not read) when the miniature's verdict is that or |paper gap| < the miniature's MDD.

**Per-seed averages only.** Results recorded before per-item scores hold each row's mean and
seed standard deviation; there the interval of a gap is gap +- 2 max(sigma_a, sigma_b)
(`seed_interval`, the chapters' rule) and is read as above: above, below or level, never
"cannot be seen at this scale", as no MDD comes from them.

**What the rule leaves out.**

- Pre-training variance where one pre-trained model serves every seed: that run's luck is in
  every score alike and in no interval.
- Few seeds: a bootstrap over 3 seeds sees at most 10 distinct seed sets and (S-1)/S of their
  variance, so where seed luck dominates the item sampling error the interval is too narrow
  (its coverage falls well below 95%); and the MDD's normal quantiles assume a well-measured
  SE, which 3 seeds do not give where their variance dominates.
- Multiplicity: each comparison is read alone; of 20 rows that truly do not differ, about one
  comes out above or below by chance.
- Units: a paper gap in GLUE points and a miniature MDD in suite points are compared as if a
  point were the same size in both.
- Metrics that are not means of items (Matthews correlation, corpus BLEU): resample with
  `resample_indices` and recompute the metric; the means here do not apply.
- Per-seed averages further leave out the test items' sampling error (shared by every seed, in
  no seed spread), the pairing (each row's spread holds the seed luck both rows share) and the
  uncertainty of sigma itself from three seeds: a floor, not a significance test.

`paired_difference` and `bootstrap_interval` are the one-level tools the chapter 8 exercises
build: the seed-by-seed difference of per-seed scores, and the item bootstrap of one accuracy.
"""
from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Mapping, Sequence

import numpy as np

from minit5.experiments.core import summary

ABOVE, LEVEL, BELOW = "above", "level", "below"
UNSEEN = "cannot be seen at this scale"
VERDICTS = (ABOVE, LEVEL, BELOW, UNSEEN)
AGREES, OPPOSITE, DIFFERS = "agrees", "opposite", "differs"
AGREEMENTS = (AGREES, OPPOSITE, DIFFERS, UNSEEN)
PAPER_SIGMA = 0.235     # the paper's baseline GLUE standard deviation over 10 runs (Table 1)


def paired_difference(a, b) -> dict:
    """{"mean", "std"} of the per-seed differences a[s] - b[s] (std with ddof=1, 0 for one
    seed: `core.summary`). a, b: one score per seed, the same seeds in the same order."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or b.ndim != 1 or len(a) != len(b) or len(a) == 0:
        raise ValueError(f"paired_difference needs one score per seed for both rows, the same "
                         f"seeds in the same order; got shapes {a.shape} and {b.shape}")
    return summary(a - b)


def bootstrap_interval(correct, rng: np.random.Generator, n_resamples: int = 1000,
                       level: float = 0.95) -> tuple[float, float]:
    """The percentile bootstrap interval of an accuracy, in percent (0-100).

    correct: (N,) bools (or 0/1), one per test example, whether the model answered it right.
    Resample k draws the indices `rng.integers(0, N, size=(n_resamples, N))[k]` (N examples
    with replacement, all resamples drawn at once) and scores their mean accuracy; the interval
    is the (1 - level) / 2 and (1 + level) / 2 quantiles of those accuracies (`np.quantile`,
    linear interpolation). Returns (low, high).
    """
    values = np.asarray(correct)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"bootstrap_interval: correct must be a non-empty 1-D array, one entry "
                         f"per test example; got shape {values.shape}")
    if not np.isin(values, (0, 1)).all():
        raise ValueError("bootstrap_interval: correct must hold only True/False (or 1/0), "
                         "whether each example was answered right; pass per-example "
                         "correctness, not scores")
    if int(n_resamples) != n_resamples or n_resamples < 1:
        raise ValueError(f"bootstrap_interval: n_resamples must be a positive integer, got "
                         f"{n_resamples!r}")
    if not 0 < level < 1:
        raise ValueError(f"bootstrap_interval: level is the interval's coverage, a fraction in "
                         f"(0, 1) such as 0.95; got {level!r}")
    n = len(values)
    draws = rng.integers(0, n, size=(int(n_resamples), n))              # (R, N)
    accuracies = 100 * values.astype(np.float64)[draws].mean(axis=1)     # (R,)
    low, high = np.quantile(accuracies, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


# ---- the two-way bootstrap over seeds and test items ------------------------------------------

def _as_tasks(scores, name: str = "scores") -> list[np.ndarray]:
    """scores as a list of (S, N_t) float64 arrays, one per task, checked."""
    if isinstance(scores, Mapping):
        if not scores:
            raise ValueError(f"{name}: the suite has no tasks; pass {{task: (seeds, items)}} "
                             f"with at least one task")
        named = list(scores.items())
    else:
        named = [("", scores)]
    tasks = []
    for task, values in named:
        where = f"{name}[{task!r}]" if task else name
        x = np.asarray(values, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"{where} must be a (seeds, items) array, one row per seed and "
                             f"one column per test item (one seed: scores[None, :]); got shape "
                             f"{x.shape}")
        if not np.isfinite(x).all():
            raise ValueError(f"{where} holds NaN or infinity; every seed must have a score "
                             f"for every test item")
        tasks.append(x)
    n_seeds = {x.shape[0] for x in tasks}
    if len(n_seeds) > 1:
        raise ValueError(f"{name}: every task needs the same seeds; got {sorted(n_seeds)} "
                         f"seeds in different tasks")
    return tasks


def _paired_tasks(a, b) -> list[np.ndarray]:
    """a - b task by task, after checking that the two rows pair item for item."""
    if isinstance(a, Mapping) != isinstance(b, Mapping) or (
            isinstance(a, Mapping) and list(a) != list(b)):
        raise ValueError("a paired difference needs both rows scored on the same tasks, in "
                         "the same order (two (seeds, items) arrays, or two mappings with the "
                         "same keys)")
    tasks_a, tasks_b = _as_tasks(a, "a"), _as_tasks(b, "b")
    for x, y in zip(tasks_a, tasks_b):
        if x.shape != y.shape:
            raise ValueError(f"a paired difference needs both rows scored with the same seeds "
                             f"on the same test items; got shapes {x.shape} and {y.shape}")
    return [x - y for x, y in zip(tasks_a, tasks_b)]


def _check_resamples(n_resamples, name: str) -> None:
    if int(n_resamples) != n_resamples or n_resamples < 1:
        raise ValueError(f"{name}: n_resamples must be a positive integer, got {n_resamples!r}")


def _check_level(level, name: str) -> None:
    if not 0 < level < 1:
        raise ValueError(f"{name}: level is the interval's coverage, a fraction in (0, 1) such "
                         f"as 0.95; got {level!r}")


def resample_indices(n_seeds: int, n_items: Sequence[int], rng: np.random.Generator,
                     n_resamples: int = 1000) -> tuple[np.ndarray, list[np.ndarray]]:
    """The draws of the two-way bootstrap: (seeds (R, S), [items (R, N_t) for each task]).

    Drawn in this order: for each task t, `rng.integers(0, N_t, size=(R, N_t))` (the items of
    each resample), then `rng.integers(0, S, size=(R, S))` (its seeds). Resample r scores
    x_t[seeds[r]][:, items_t[r]]: the same drawn items for every drawn seed. For a metric that
    is not a mean of items, recompute it on each resample from these indices.
    """
    if int(n_seeds) != n_seeds or n_seeds < 1 or any(int(n) != n or n < 1 for n in n_items):
        raise ValueError(f"resample_indices: n_seeds and every n_items must be positive "
                         f"integers; got {n_seeds!r} and {list(n_items)!r}")
    _check_resamples(n_resamples, "resample_indices")
    r = int(n_resamples)
    items = [rng.integers(0, int(n), size=(r, int(n))) for n in n_items]     # (R, N_t) each
    seeds = rng.integers(0, int(n_seeds), size=(r, int(n_seeds)))            # (R, S)
    return seeds, items


def _counts(indices: np.ndarray, k: int) -> np.ndarray:
    """(R, k) float64: how often each of 0..k-1 occurs in each row of `indices` (R, k)."""
    r = len(indices)
    flat = (np.arange(r)[:, None] * k + indices).ravel()
    return np.bincount(flat, minlength=r * k).reshape(r, k).astype(np.float64)


def _suite_mean(tasks: list[np.ndarray]) -> float:
    return float(np.mean([x.mean() for x in tasks]))


def _bootstrap_means(tasks: list[np.ndarray], rng: np.random.Generator,
                     n_resamples: int) -> np.ndarray:
    """(R,) the suite mean of each resample of `resample_indices`.

    The mean over drawn seeds x drawn items of x[s, i] is c^T x d / (S N), with c (S,) and
    d (N,) how often each seed and each item was drawn: no (R, S, N) gather is built.
    """
    n_seeds = tasks[0].shape[0]
    seeds, items = resample_indices(n_seeds, [x.shape[1] for x in tasks], rng, n_resamples)
    seed_counts = _counts(seeds, n_seeds)                                    # (R, S)
    total = np.zeros(len(seeds))
    for x, drawn in zip(tasks, items):
        item_counts = _counts(drawn, x.shape[1])                             # (R, N)
        total += np.einsum("rn,rn->r", seed_counts @ x, item_counts) / x.size
    return total / len(tasks)


def _interval(tasks: list[np.ndarray], rng: np.random.Generator, n_resamples: int,
              level: float, name: str) -> dict:
    """{"mean", "low", "high"}: the suite mean and the percentile interval of its resamples."""
    _check_resamples(n_resamples, name)
    _check_level(level, name)
    means = _bootstrap_means(tasks, rng, n_resamples)                        # (R,)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return {"mean": _suite_mean(tasks), "low": float(low), "high": float(high)}


def mean_interval(scores, rng: np.random.Generator, n_resamples: int = 1000,
                  level: float = 0.95) -> dict:
    """{"mean", "low", "high"}: a row's mean over seeds and test items, and its two-way
    percentile bootstrap interval (the module docstring gives the draws).

    scores: (S, N) per-item scores for each seed, or {task: (S, N_t)} for a suite.
    """
    return _interval(_as_tasks(scores), rng, n_resamples, level, "mean_interval")


def paired_interval(a, b, rng: np.random.Generator, n_resamples: int = 1000,
                    level: float = 0.95) -> dict:
    """{"mean", "low", "high"} of row a minus row b, scored with the same seeds on the same
    test items: `mean_interval` of d = a - b, so both rows share every draw."""
    return _interval(_paired_tasks(a, b), rng, n_resamples, level, "paired_interval")


# ---- standard error and minimum detectable difference ----------------------------------------

@dataclass(frozen=True)
class VarianceComponents:
    """The variance of a (suite) score split into its seed, item and residual parts, with the
    design it was measured on (the module docstring gives the estimates)."""
    seed: float                     # v_seed of the suite mean over one seed
    item: tuple[float, ...]         # v_item of each task
    residual: tuple[float, ...]     # v_res of each task
    n_seeds: int
    n_items: tuple[int, ...]

    def standard_error(self, n_seeds: int | None = None, n_items=None) -> float:
        """SE of the suite mean with n_seeds seeds and n_items test items (an int for every
        task, or one per task; the measured design where None):
        SE^2 = v_seed / S + (1/T^2) sum_t (v_item_t / N_t + v_res_t / (S N_t))."""
        s = self.n_seeds if n_seeds is None else n_seeds
        if n_items is None:
            n = self.n_items
        elif np.ndim(n_items) == 0:
            n = (n_items,) * len(self.item)
        else:
            n = tuple(n_items)
        if len(n) != len(self.item) or s < 1 or min(n) < 1:
            raise ValueError(f"standard_error: needs at least one seed and one item for each "
                             f"of the {len(self.item)} tasks; got n_seeds={s!r}, "
                             f"n_items={n_items!r}")
        t = len(self.item)
        per_task = sum(vi / ni + vr / (s * ni) for vi, vr, ni in zip(self.item, self.residual, n))
        return float(np.sqrt(self.seed / s + per_task / t ** 2))


def variance_components(scores) -> VarianceComponents:
    """The seed, item and residual variances of (S, N) scores (or {task: (S, N_t)}), by the
    two-way analysis of variance of the module docstring; S >= 2 and N_t >= 2.

    Pass the paired difference a - b to measure a comparison's noise (or use `compare`)."""
    return _components(_as_tasks(scores))


def _components(tasks: list[np.ndarray]) -> VarianceComponents:
    n_seeds = tasks[0].shape[0]
    if n_seeds < 2 or min(x.shape[1] for x in tasks) < 2:
        raise ValueError(f"variance_components needs at least 2 seeds and 2 test items per "
                         f"task to tell seed variance from item variance; got {n_seeds} "
                         f"seed(s) and {[x.shape[1] for x in tasks]} items: run more seeds")
    items, residuals, seed_means = [], [], []
    for x in tasks:
        s, n = x.shape
        by_seed, by_item = x.mean(axis=1), x.mean(axis=0)                     # (S,), (N,)
        resid = x - by_seed[:, None] - by_item[None, :] + x.mean()           # (S, N)
        ms_res = float((resid ** 2).sum()) / ((s - 1) * (n - 1))
        ms_item = s * float(by_item.var(ddof=1))
        items.append(max(0.0, (ms_item - ms_res) / s))
        residuals.append(ms_res)
        seed_means.append(by_seed)
    t = len(tasks)
    suite_by_seed = np.mean(seed_means, axis=0)                               # (S,)
    residual_share = sum(r / x.shape[1] for r, x in zip(residuals, tasks)) / t ** 2
    seed = max(0.0, float(suite_by_seed.var(ddof=1)) - residual_share)
    return VarianceComponents(seed, tuple(items), tuple(residuals), n_seeds,
                              tuple(x.shape[1] for x in tasks))


def mdd_factor(power: float = 0.8, level: float = 0.95) -> float:
    """z_{(1+level)/2} + z_power: 1.960 + 0.842 = 2.80 for 80% power at 5% two-sided."""
    if not (0 < power < 1 and 0 < level < 1):
        raise ValueError(f"mdd_factor: power and level are fractions in (0, 1), such as 0.8 "
                         f"and 0.95; got power={power!r}, level={level!r}")
    z = NormalDist().inv_cdf
    return z((1 + level) / 2) + z(power)


def minimum_detectable_difference(components: VarianceComponents, n_seeds: int | None = None,
                                  n_items=None, power: float = 0.8,
                                  level: float = 0.95) -> float:
    """MDD = (z_{(1+level)/2} + z_power) x SE(n_seeds, n_items): the true difference a
    two-sided test at 1 - level finds with probability `power` (2.80 SE for 80% at 5%).

    components: `variance_components` of a paired difference (observed, or a pilot's, for a
    planned design of n_seeds seeds and n_items items)."""
    return mdd_factor(power, level) * components.standard_error(n_seeds, n_items)


# ---- the verdict rule ---------------------------------------------------------------------------

def verdict(low: float, high: float, mdd: float | None = None,
            effect: float | None = None) -> str:
    """The rule of the module docstring: "above" if low > 0, "below" if high < 0; otherwise
    "cannot be seen at this scale" if |effect| < mdd, else "level". mdd and effect (the size of
    the difference in question, e.g. the paper's gap) come together or not at all."""
    if (mdd is None) != (effect is None):
        raise ValueError("verdict: pass both mdd and effect (the difference in question, such "
                         "as the paper's gap) or neither")
    if not low <= high:
        raise ValueError(f"verdict: the interval must have low <= high; got ({low!r}, "
                         f"{high!r})")
    if low > 0:
        return ABOVE
    if high < 0:
        return BELOW
    if mdd is not None and abs(effect) < mdd:
        return UNSEEN
    return LEVEL


def seed_interval(gap: float, std_a: float, std_b: float) -> tuple[float, float]:
    """The interval of a gap from per-seed averages only: gap +- 2 max(std_a, std_b), the two
    rows' sample standard deviations over seeds (`core.summary`)."""
    if not (float(std_a) >= 0 and float(std_b) >= 0):
        raise ValueError(f"seed_interval: standard deviations are >= 0; got {std_a!r} and "
                         f"{std_b!r}")
    bar = 2 * max(float(std_a), float(std_b))
    return gap - bar, gap + bar


def paper_direction(paper_gap: float, sigma: float = PAPER_SIGMA) -> str:
    """The paper's own rule: above, below or level as the interval paper_gap +- 2 sigma
    excludes 0 on either side or holds it (sigma: 0.235, GLUE over 10 runs, Table 1)."""
    if not sigma >= 0:
        raise ValueError(f"paper_direction: sigma is a standard deviation, >= 0; got "
                         f"{sigma!r}")
    return verdict(paper_gap - 2 * sigma, paper_gap + 2 * sigma)


def paper_agreement(paper_gap: float, miniature: str, mdd: float | None = None,
                    sigma: float = PAPER_SIGMA) -> str:
    """A row's miniature verdict against the paper's direction: "agrees" (equal), "opposite"
    (one above, one below), "differs" (one level), or "cannot be seen at this scale" when the
    miniature's verdict is that or |paper_gap| < mdd (the miniature could not see a gap the
    paper's size)."""
    if miniature not in VERDICTS:
        raise ValueError(f"paper_agreement: the miniature's verdict must be one of "
                         f"{VERDICTS}; got {miniature!r}")
    if miniature == UNSEEN or (mdd is not None and abs(paper_gap) < mdd):
        return UNSEEN
    paper = paper_direction(paper_gap, sigma)
    if paper == miniature:
        return AGREES
    return OPPOSITE if {paper, miniature} == {ABOVE, BELOW} else DIFFERS


def compare(a, b, rng: np.random.Generator, effect: float | None = None,
            n_resamples: int = 1000, level: float = 0.95, power: float = 0.8) -> dict:
    """Row a against row b (same seeds, same test items) by the rule, end to end:
    {"mean", "low", "high"} of `paired_interval`, "se" and "mdd" of the difference at the
    measured design, and "verdict" (`verdict` with `effect`, if given)."""
    interval = paired_interval(a, b, rng, n_resamples, level)
    components = _components(_paired_tasks(a, b))
    se = components.standard_error()
    mdd = mdd_factor(power, level) * se
    return {**interval, "se": se, "mdd": mdd,
            "verdict": verdict(interval["low"], interval["high"],
                               None if effect is None else mdd, effect)}
