"""Graders for chapter 8 (fine-tuning and the baseline): each compares the student's function
with the library's (`minit5.experiments.choice.best_options`, `minit5.experiments.statistics`,
`minit5.data.metrics.matthews_corrcoef`)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check_array, check_equal, fail, mistake_hint

length_normalized_choice = exercise("8.1")
paired_difference = exercise("8.2")
bootstrap_interval = exercise("8.3")
matthews_correlation = exercise("8.4")

seeds = st.integers(0, 2**32 - 1)


# ---- 8.1 the mean log-probability per token ------------------------------------------------

@st.composite
def options_case(draw):
    rng = np.random.default_rng(draw(seeds))
    counts = rng.integers(1, 5, size=draw(st.integers(1, 6)))
    n = int(counts.sum())
    lengths = rng.integers(1, 7, size=n)
    if draw(st.booleans()):              # per-token means from a few values: many exact ties
        scores = -lengths * rng.integers(1, 4, size=n).astype(np.float64)
    else:
        scores = -lengths * rng.exponential(size=n)
    return scores, lengths, counts


def _grouped_best(scores, counts, last_on_ties=False):
    out, start = [], 0
    for c in counts:
        part = scores[start:start + c]
        out.append(c - 1 - int(np.argmax(part[::-1])) if last_on_ties else int(np.argmax(part)))
        start += c
    return np.array(out)


def choice_mistakes(scores, lengths, counts):
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    mean = scores / lengths
    return [("ranking by the summed log-likelihood (no division by the length)",
             lambda: _grouped_best(scores, counts)),
            ("dividing by the length without </s> (length - 1)",
             lambda: _grouped_best(scores / (lengths - 1), counts) if (lengths > 1).all()
             else None),
            ("multiplying by the length instead of dividing",
             lambda: _grouped_best(scores * lengths, counts)),
            ("ties going to the last option", lambda: _grouped_best(mean, counts, True)),
            ("positions in the flat list of all options, not within each example",
             lambda: _grouped_best(mean, counts) + starts),
            ("picking the worst option", lambda: _grouped_best(-mean, counts))]


CHOICE_HINT = ("an option's score must not drop merely because it has more tokens, each "
               "example's options compete only with each other, and a tie keeps the earlier "
               "option")


@pytest.mark.ex8_1
@given(options_case())
def test_length_normalized_choice_matches_library(case):
    scores, lengths, counts = case
    expected = reference("8.1")(scores, lengths, counts)
    got = length_normalized_choice(scores, lengths, counts)
    check_equal("length_normalized_choice", got, expected, CHOICE_HINT,
                {"log_likelihoods": scores, "lengths": lengths, "counts": counts},
                what="the chosen positions", mistakes=choice_mistakes(scores, lengths, counts))


# ---- 8.2 per-seed differences ----------------------------------------------------------------

@st.composite
def rows_case(draw):
    rng = np.random.default_rng(draw(seeds))
    n = draw(st.integers(1, 6))
    luck = rng.normal(scale=5.0, size=n)                   # what a seed does to both rows
    a = 60 + luck + rng.normal(size=n)
    b = 52 + luck + rng.normal(size=n)
    if draw(st.booleans()):
        return a.tolist(), b.tolist()
    return a, b


def _summary(values, ddof=1):
    values = np.asarray(values, dtype=np.float64)
    return {"mean": float(values.mean()),
            "std": float(values.std(ddof=ddof)) if len(values) > ddof else 0.0}


def paired_mistakes(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return [("b - a instead of a - b", lambda: _summary(b - a)),
            ("dividing by n instead of n - 1", lambda: _summary(a - b, ddof=0)),
            ("the larger of the two rows' own spreads (the unpaired rule)",
             lambda: {"mean": float((a - b).mean()),
                      "std": max(_summary(a)["std"], _summary(b)["std"])}),
            ("the spread of the two rows combined, sqrt(std_a^2 + std_b^2) (unpaired)",
             lambda: {"mean": float((a - b).mean()),
                      "std": float(np.hypot(_summary(a)["std"], _summary(b)["std"]))})]


def _same_summary(got, expected):
    try:
        return set(got) == {"mean", "std"} and all(
            np.isclose(float(got[k]), expected[k], rtol=1e-9, atol=1e-9) for k in expected)
    except (TypeError, ValueError, KeyError):
        return False


PAIRED_HINT = ("the spread asked for is the spread of the per-seed gaps, not of either row; "
               "check the sign of the gap, the denominator of a sample variance, and a "
               "single seed")


@pytest.mark.ex8_2
@given(rows_case())
def test_paired_difference_matches_library(case):
    a, b = case
    expected = reference("8.2")(a, b)
    got = paired_difference(a, b)
    hint = PAIRED_HINT
    if not _same_summary(got, expected):
        hint = mistake_hint(got, paired_mistakes(a, b), hint, _same_summary)
    if not (isinstance(got, dict) and set(got) == {"mean", "std"}):
        fail(f"paired_difference must return a dict with the keys 'mean' and 'std', got "
             f"{got!r}", hint)
    inputs = {"a": np.asarray(a), "b": np.asarray(b)}
    for key in ("mean", "std"):
        check_array("paired_difference", got[key], np.float64(expected[key]), hint, inputs,
                    rtol=1e-9, atol=1e-9, what=f"the {key}")


# ---- 8.3 the percentile bootstrap ------------------------------------------------------------

@st.composite
def bootstrap_case(draw):
    seed = draw(seeds)
    rng = np.random.default_rng(seed)
    n = draw(st.integers(1, 300))
    correct = rng.random(n) < rng.uniform(0.2, 0.9)
    n_resamples = draw(st.integers(1, 400))
    level = draw(st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99]))
    return correct, seed, n_resamples, level


def _interval(accuracies, level, lower_q=None):
    low_q, high_q = ((1 - level) / 2, (1 + level) / 2) if lower_q is None else lower_q
    low, high = np.quantile(accuracies, [low_q, high_q])
    return float(low), float(high)


def bootstrap_mistakes(correct, seed, n_resamples, level):
    n = len(correct)
    values = correct.astype(np.float64)

    def draws(shape):
        return np.random.default_rng(seed).integers(0, n, size=shape)
    right = 100 * values[draws((n_resamples, n))].mean(axis=1)
    return [("the draws laid out as (N, n_resamples), one resample per column",
             lambda: _interval(100 * values[draws((n, n_resamples))].mean(axis=0), level)),
            ("the quantiles level / 2 and 1 - level / 2",
             lambda: _interval(right, level, (level / 2, 1 - level / 2))),
            ("accuracies as fractions instead of percent",
             lambda: _interval(right / 100, level)),
            ("resampling without replacement (every resample is the test set itself)",
             lambda: (100 * values.mean(), 100 * values.mean())),
            ("the 'nearest' quantile instead of linear interpolation",
             lambda: tuple(float(q) for q in np.quantile(
                 right, [(1 - level) / 2, (1 + level) / 2], method="nearest")))]


def _same_interval(got, expected):
    try:
        return len(got) == 2 and np.allclose(np.asarray(got, dtype=np.float64),
                                             np.asarray(expected), rtol=1e-9, atol=1e-9)
    except (TypeError, ValueError):
        return False


BOOTSTRAP_HINT = ("the generator must be used exactly as the docstring says (one call, that "
                  "shape), or the draws differ from the library's; then check the scale of the "
                  "accuracies and which quantiles bound the interval")


@pytest.mark.ex8_3
@given(bootstrap_case())
def test_bootstrap_interval_matches_library(case):
    correct, seed, n_resamples, level = case
    expected = reference("8.3")(correct, np.random.default_rng(seed), n_resamples, level)
    got = bootstrap_interval(correct, np.random.default_rng(seed), n_resamples, level)
    hint = BOOTSTRAP_HINT
    if not _same_interval(got, expected):
        hint = mistake_hint(got, bootstrap_mistakes(correct, seed, n_resamples, level), hint,
                            _same_interval)
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        fail(f"bootstrap_interval must return two numbers (low, high), got {got!r}", hint)
    inputs = {"correct": correct, "n_resamples": n_resamples, "level": level}
    for name, got_end, expected_end in zip(("low", "high"), got, expected):
        check_array("bootstrap_interval", got_end, np.float64(expected_end), hint, inputs,
                    rtol=1e-9, atol=1e-9, what=f"the {name} end")


# ---- 8.4 Matthews correlation ----------------------------------------------------------------

@st.composite
def labels_case(draw):
    rng = np.random.default_rng(draw(seeds))
    n = draw(st.integers(1, 40))
    targets = (rng.random(n) < rng.uniform(0.1, 0.9)).astype(np.int64)
    kind = draw(st.sampled_from(["noisy", "constant predictions", "constant targets"]))
    if kind == "constant predictions":
        predictions = np.full(n, int(rng.integers(2)), dtype=np.int64)
    elif kind == "constant targets":
        targets = np.full(n, int(rng.integers(2)), dtype=np.int64)
        predictions = rng.integers(0, 2, size=n)
    else:
        predictions = np.where(rng.random(n) < 0.7, targets, 1 - targets)
    return predictions, targets


def mcc_mistakes(predictions, targets):
    p, t = predictions.astype(np.float64), targets.astype(np.float64)
    tp, tn = float((p * t).sum()), float(((1 - p) * (1 - t)).sum())
    fp, fn = float((p * (1 - t)).sum()), float(((1 - p) * t).sum())
    root = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    mcc = 0.0 if root == 0 else (tp * tn - fp * fn) / root
    return [("returning nan where the correlation is undefined",
             lambda: np.nan if root == 0 else 100 * mcc),
            ("a fraction in -1..1 instead of times 100", lambda: mcc),
            ("the accuracy", lambda: 100 * float((p == t).mean())),
            ("leaving out the square root",
             lambda: 0.0 if root == 0 else 100 * (tp * tn - fp * fn) / root ** 2)]


MCC_HINT = ("check the answer when all the predictions, or all the targets, are one class, "
            "and the scale of the result")


@pytest.mark.ex8_4
@given(labels_case())
def test_matthews_correlation_matches_library(case):
    predictions, targets = case
    expected = reference("8.4")(predictions, targets)
    got = matthews_correlation(predictions, targets)
    check_array("matthews_correlation", got, np.float64(expected), MCC_HINT,
                {"predictions": predictions, "targets": targets}, rtol=1e-9, atol=1e-9,
                mistakes=mcc_mistakes(predictions, targets))
