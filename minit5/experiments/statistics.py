"""How sure a comparison of two rows is: paired differences over seeds, and a bootstrap interval
over the test examples.

`core.summary` gives each row the mean and sample standard deviation of its per-seed scores,
and the chapters call a gap clear when it exceeds twice the larger of the two spreads: the
paper's own rule of thumb (§3.1.5, Table 1: a GLUE spread of 0.235 over ten runs). Two finer
tools:

- `paired_difference`. When both rows are run with the same seeds and a seed fixes what the
  rows share (in the Table 1 miniature: the training sample and the order of the examples),
  the luck of a seed moves both rows together. The difference seed by seed cancels it, and its
  spread is the spread of the gap itself.
- `bootstrap_interval`. The seeds cover the randomness of training only; the test set is one
  sample of examples too. Resampling the test examples with replacement (Efron's bootstrap,
  percentile method) gives an interval for the accuracy a run would have on other examples
  like these.
"""
from __future__ import annotations

import numpy as np

from minit5.experiments.core import summary


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
