"""Graders for chapter 8 (fine-tuning and the baseline): each compares the student's function
with the library's (`minit5.train.choice.best_options`, `minit5.experiments.statistics`,
`minit5.data.metrics.matthews_corrcoef`)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check, check_array, check_equal, fail, mistake_hint

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
    gap = draw(st.sampled_from([8.0, -8.0, 0.5, -0.5, 0.0]))   # a above b, below, or level:
    a = 60 + gap + luck + rng.normal(size=n)                  # per-seed gaps of both signs
    b = 60 + luck + rng.normal(size=n)
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
            ("the absolute differences |a - b| (the sign of each gap lost)",
             lambda: _summary(np.abs(a - b))),
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
    grade_paired(*case)


# Pinned: one seed (std 0), identical rows, gaps of both signs, lists and arrays.
@pytest.mark.ex8_2
@pytest.mark.parametrize("a, b", [([61.0], [60.0]), ([60.0, 61.0], [60.0, 61.0]),
                                  ([60.0, 58.0, 63.0], [59.0, 60.0, 60.0]),
                                  (np.array([50.0, 52.0]), np.array([51.0, 54.0]))])
def test_paired_difference_pinned_cases(a, b):
    grade_paired(a, b)


def grade_paired(a, b):
    __tracebackhide__ = True
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
# The draws are the student's to choose, so the grader checks what any percentile bootstrap
# gives: exact answers where every resample scores alike, bounds every resample respects,
# reproducibility from the generator, and with many resamples ends within the resampling noise
# of the library's (plus one example's step, as the accuracies are multiples of 100 / N).

def _bootstrap_call(correct, seed, *args):
    got = bootstrap_interval(correct, np.random.default_rng(seed), *args)
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        fail(f"bootstrap_interval must return two numbers (low, high), got {got!r}",
             "return a pair of floats, the interval's low and high end, in percent")
    try:
        return float(got[0]), float(got[1])
    except (TypeError, ValueError):
        fail(f"bootstrap_interval returned {got!r}, not two numbers",
             "return a pair of floats, the interval's low and high end, in percent")


def bootstrap_mistakes(correct, level, n_resamples=20_000):
    values = correct.astype(np.float64)
    n, accuracy = len(values), 100 * values.mean()
    draws = np.random.default_rng(12345).integers(0, n, size=(n_resamples, n))
    right = 100 * values[draws].mean(axis=1)
    z = {0.5: 0.674, 0.8: 1.282, 0.9: 1.645, 0.95: 1.960, 0.99: 2.576}.get(level, 1.960)
    sigma = 100 * np.sqrt(values.mean() * (1 - values.mean()) / n)
    return [("the quantiles level / 2 and 1 - level / 2",
             lambda: tuple(np.quantile(right, [level / 2, 1 - level / 2]))),
            ("accuracies as fractions instead of percent",
             lambda: tuple(np.quantile(right / 100, [(1 - level) / 2, (1 + level) / 2]))),
            ("resampling without replacement (every resample is the test set itself)",
             lambda: (accuracy, accuracy)),
            ("a normal approximation (accuracy +- z * its standard error), not resampling",
             lambda: (accuracy - z * sigma, accuracy + z * sigma))]


def _close_interval(got, expected, tolerance):
    try:
        return len(got) == 2 and bool(np.all(np.abs(np.asarray(got, dtype=np.float64)
                                                    - np.asarray(expected)) <= tolerance))
    except (TypeError, ValueError):
        return False


BOOTSTRAP_HINT = ("check that each resample draws N examples with replacement, that the "
                  "accuracies are in percent, and which two quantiles bound an interval of "
                  "coverage `level`")

# (number right, N, level): an all-right and an all-wrong set, a single example, a set of one
# wrong answer in many (the normal approximation leaves 0-100 there), and balanced sets.
BOOTSTRAP_CASES = [(0, 1, 0.95), (1, 1, 0.9), (12, 12, 0.95), (0, 30, 0.99), (19, 20, 0.95),
                   (1, 20, 0.9), (120, 240, 0.95), (200, 240, 0.8), (7, 9, 0.5),
                   (150, 300, 0.99)]


@pytest.mark.ex8_3
@pytest.mark.parametrize("right, n, level", BOOTSTRAP_CASES)
def test_bootstrap_interval_matches_library(right, n, level):
    correct = np.zeros(n, dtype=bool)
    correct[np.random.default_rng(n).permutation(n)[:right]] = True
    inputs = {"correct": correct, "n_resamples": 20_000, "level": level}
    got = _bootstrap_call(correct, 7, 20_000, level)
    expected = reference("8.3")(correct, np.random.default_rng(1), 20_000, level)
    accuracy = 100 * right / n
    if right in (0, n):          # every resample scores the same accuracy
        check_array("bootstrap_interval", np.array(got), np.array([accuracy, accuracy]),
                    "when every test example is right (or every one wrong), every resample "
                    "scores the same", inputs, rtol=0, atol=1e-9, what="the interval")
        return
    p = right / n
    sigma = 100 * np.sqrt(p * (1 - p) / n)
    tolerance = 100 / n + 0.3 * sigma      # one step, and > 6x the resampling noise of both
    hint = BOOTSTRAP_HINT
    if not _close_interval(got, expected, tolerance):
        hint = mistake_hint(got, bootstrap_mistakes(correct, level), hint,
                            lambda a, b: _close_interval(a, b, tolerance / 3))
    check(0 <= got[0] <= got[1] <= 100,
          f"bootstrap_interval returned {got}, not 0 <= low <= high <= 100", hint,
          expected=expected, got=got)
    check(_close_interval(got, expected, tolerance),
          f"bootstrap_interval: the interval {tuple(round(v, 3) for v in got)} is more than "
          f"{tolerance:.3f} from the library's {tuple(round(v, 3) for v in expected)} with "
          f"20,000 resamples (N = {n}, {right} right, level {level})", hint,
          expected=expected, got=got)


@pytest.mark.ex8_3
@given(st.integers(1, 60), seeds, st.integers(1, 50),
       st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99]))
def test_bootstrap_interval_is_a_bootstrap(n, seed, n_resamples, level):
    rng = np.random.default_rng(seed)
    correct = rng.random(n) < rng.uniform(0.1, 0.9)
    got = _bootstrap_call(correct, seed, n_resamples, level)
    again = _bootstrap_call(correct, seed, n_resamples, level)
    check(got == again, "bootstrap_interval gave two answers for the same generator state",
          "take every random number from the generator passed in (rng), not from "
          "np.random's global state or a generator of your own", expected=got, got=again)
    check(0 <= got[0] <= got[1] <= 100,
          f"bootstrap_interval returned {got}: not 0 <= low <= high <= 100", BOOTSTRAP_HINT,
          expected="0 <= low <= high <= 100", got=got)
    if n_resamples == 1:         # both quantiles of one accuracy: that accuracy, k / n
        check(got[0] == got[1] and np.isclose(got[0] * n / 100, round(got[0] * n / 100)),
              f"with one resample the interval must be one accuracy of {n} examples (a "
              f"multiple of 100 / {n}), got {got}", BOOTSTRAP_HINT, got=got)


@pytest.mark.ex8_3
def test_bootstrap_interval_defaults():
    correct = np.random.default_rng(3).random(240) < 0.7
    got = bootstrap_interval(correct, np.random.default_rng(5))
    expected = reference("8.3")(correct, np.random.default_rng(6), 20_000)     # level 0.95
    p = correct.mean()
    tolerance = 100 / 240 + 0.3 * 100 * np.sqrt(p * (1 - p) / 240) + 0.5    # 1,000 resamples
    check(_close_interval(got, expected, tolerance),
          f"bootstrap_interval(correct, rng) with the default n_resamples and level gave "
          f"{got}, far from the library's {expected}",
          "keep the defaults of the stub's signature: 1000 resamples, level 0.95",
          expected=expected, got=got)


# ---- 8.4 Matthews correlation ----------------------------------------------------------------

@st.composite
def labels_case(draw):
    rng = np.random.default_rng(draw(seeds))
    n = draw(st.integers(1, 40))
    k = draw(st.integers(2, 5))
    ids = np.sort(rng.choice(np.arange(-3, 20), size=k, replace=False)) \
        if draw(st.booleans()) else np.arange(k)              # ids that are not 0..K-1 too
    targets = ids[rng.integers(0, k, size=n)]
    kind = draw(st.sampled_from(["noisy", "noisy", "constant predictions", "constant targets",
                                 "a class only predicted"]))
    if kind == "constant predictions":
        predictions = np.full(n, ids[int(rng.integers(k))], dtype=np.int64)
    elif kind == "constant targets":
        targets = np.full(n, ids[int(rng.integers(k))], dtype=np.int64)
        predictions = ids[rng.integers(0, k, size=n)]
    elif kind == "a class only predicted":
        targets = ids[rng.integers(0, k - 1, size=n)]         # the last class never true
        predictions = np.where(rng.random(n) < 0.6, targets, ids[-1])
    else:
        predictions = np.where(rng.random(n) < 0.6, targets, ids[rng.integers(0, k, size=n)])
    return predictions.astype(np.int64), targets.astype(np.int64)


def _binary_mcc(p, t):
    tp, tn = float((p * t).sum()), float(((1 - p) * (1 - t)).sum())
    fp, fn = float((p * (1 - t)).sum()), float(((1 - p) * t).sum())
    root = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return root, (0.0 if root == 0 else 100 * (tp * tn - fp * fn) / root)


def mcc_mistakes(predictions, targets):
    classes = np.union1d(predictions, targets)
    x = (predictions[:, None] == classes).astype(np.float64)          # (N, K)
    y = (targets[:, None] == classes).astype(np.float64)
    xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
    sxy, sxx, syy = (xc * yc).sum(), (xc * xc).sum(), (yc * yc).sum()
    mcc = 0.0 if sxx * syy == 0 else sxy / np.sqrt(sxx * syy)
    per_class = [np.corrcoef(x[:, k], y[:, k])[0, 1] if x[:, k].std() * y[:, k].std() else 0.0
                 for k in range(len(classes))]
    first = classes.min()
    return [("returning nan where the correlation is undefined",
             lambda: np.nan if sxx * syy == 0 else 100 * mcc),
            ("a fraction in -1..1 instead of times 100", lambda: mcc),
            ("the accuracy", lambda: 100 * float((predictions == targets).mean())),
            ("the mean of the per-class correlations (one-vs-rest), not one correlation of "
             "all the columns together", lambda: 100 * float(np.mean(per_class))),
            ("the two-class formula with every class other than the smallest id as class 1",
             lambda: _binary_mcc((predictions != first).astype(float),
                                 (targets != first).astype(float))[1]),
            ("only the classes of the targets (a class only predicted left out)",
             lambda: _only_target_classes(predictions, targets))]


def _only_target_classes(predictions, targets):
    classes = np.unique(targets)
    x = (predictions[:, None] == classes).astype(np.float64)
    y = (targets[:, None] == classes).astype(np.float64)
    xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
    sxx, syy = (xc * xc).sum(), (yc * yc).sum()
    return 0.0 if sxx * syy == 0 else 100 * (xc * yc).sum() / np.sqrt(sxx * syy)


MCC_HINT = ("the classes are every id in either array, each one a column of the one-hot "
            "codes; check the answer when all the predictions, or all the targets, are one "
            "class, and the scale of the result")


def _grade_mcc(predictions, targets):
    expected = reference("8.4")(predictions, targets)
    got = matthews_correlation(predictions, targets)
    check_array("matthews_correlation", got, np.float64(expected), MCC_HINT,
                {"predictions": predictions, "targets": targets}, rtol=1e-9, atol=1e-9,
                mistakes=mcc_mistakes(predictions, targets))


@pytest.mark.ex8_4
@given(labels_case())
def test_matthews_correlation_matches_library(case):
    _grade_mcc(*case)


# The edge cases named in the docstring, each pinned: two classes, three classes, a class only
# the predictions use, constant predictions, constant targets, one example, ids not 0..K-1.
MCC_CASES = [([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]), ([0, 1, 2, 2], [0, 0, 2, 1]),
             ([0, 1, 2, 1, 0, 2], [0, 1, 1, 1, 0, 0]), ([1, 1, 1, 1], [0, 1, 0, 1]),
             ([0, 2, 1, 0], [2, 2, 2, 2]), ([3], [3]), ([7, -2, 7, 5], [7, -2, 5, 5])]


@pytest.mark.ex8_4
@pytest.mark.parametrize("predictions, targets", MCC_CASES)
def test_matthews_correlation_edge_cases(predictions, targets):
    _grade_mcc(np.array(predictions, dtype=np.int64), np.array(targets, dtype=np.int64))
