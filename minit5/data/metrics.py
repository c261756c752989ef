"""Metrics for text-to-text tasks (paper §2.3, §2.4): the model writes text, the metric reads it.

Two scales. The plain string metrics (`accuracy`, `exact_match`, `token_f1`, `pearson`,
`spearman`) return fractions in [0, 1], as the synthetic tasks report them. The metrics of the
paper's benchmarks return 0-100 with the t5 library's names and rules
(`t5/evaluation/metrics.py`, `qa_utils.py`): `matthews_corrcoef` (CoLA), `f1_with_invalid`
(MRPC, QQP), `mean_multiclass_f1` (CB), `squad` (SQuAD, and ReCoRD via `record`), `multirc`,
`bleu` and `rouge`. Everything is NumPy except BLEU and ROUGE, which wrap SacreBLEU and
rouge-score configured as t5 configures them (optional: `pip install -e .[metrics]`).
The order of arguments is always (predictions, targets); t5's is (targets, predictions).

`METRICS` names the metrics that score lists of strings, for `--metric` on the command line.
"""
from __future__ import annotations

import collections
import re
import string
from typing import Callable, Sequence

import numpy as np

from minit5.data.postprocessors import string_to_float


def _check_pair(predictions: Sequence, targets: Sequence, metric: str) -> None:
    if len(predictions) != len(targets):
        raise ValueError(f"{metric}: {len(predictions)} predictions but {len(targets)} targets; "
                         f"pass one prediction per target")
    if len(targets) == 0:
        raise ValueError(f"{metric}: no examples; pass at least one prediction and target")


def accuracy(predictions: Sequence, targets: Sequence) -> float:
    """Fraction of predictions equal to their target (labels as strings or numbers)."""
    _check_pair(predictions, targets, "accuracy")
    return sum(p == t for p, t in zip(predictions, targets)) / len(targets)


def exact_match(predictions: Sequence[str], targets: Sequence[str]) -> float:
    """Fraction of predictions that equal their target after stripping surrounding whitespace
    (decoding can leave a leading or trailing space; anything else must match)."""
    _check_pair(predictions, targets, "exact_match")
    return sum(p.strip() == t.strip() for p, t in zip(predictions, targets)) / len(targets)


def token_f1(predictions: Sequence[str], targets: Sequence[str]) -> float:
    """Mean F1 (0-1) of the whitespace-word overlap between each prediction and its target:
    precision = shared / predicted words, recall = shared / target words; two empty strings
    score 1. No normalisation: for SQuAD's metric (lower case, no punctuation or articles, the
    best of several answers, 0-100) use `squad`."""
    _check_pair(predictions, targets, "token_f1")
    scores = []
    for prediction, target in zip(predictions, targets):
        predicted, wanted = prediction.split(), target.split()
        if not predicted or not wanted:
            scores.append(float(predicted == wanted))
            continue
        scores.append(_overlap_f1(predicted, wanted))
    return float(np.mean(scores))


def _overlap_f1(predicted: list[str], wanted: list[str]) -> float:
    shared = sum((collections.Counter(predicted) & collections.Counter(wanted)).values())
    if shared == 0:
        return 0.0
    precision, recall = shared / len(predicted), shared / len(wanted)
    return 2 * precision * recall / (precision + recall)


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation: covariance over the product of standard deviations.

    NaN when either list is constant (the correlation is undefined there).
    """
    _check_pair(x, y, "pearson")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    dx, dy = x - x.mean(), y - y.mean()
    denominator = np.sqrt((dx * dx).sum() * (dy * dy).sum())
    if denominator == 0.0:
        return float("nan")
    return float(np.clip((dx * dy).sum() / denominator, -1.0, 1.0))


def average_ranks(x: Sequence[float]) -> np.ndarray:
    """Ranks 1..n of `x`; tied values share the mean of the ranks they span
    ([10, 20, 20, 30] -> [1, 2.5, 2.5, 4])."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x), dtype=np.float64)
    start = 0
    while start < len(x):
        end = start
        while end + 1 < len(x) and x[order[end + 1]] == x[order[start]]:
            end += 1
        ranks[order[start:end + 1]] = (start + end) / 2 + 1  # mean of ranks start+1..end+1
        start = end + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation: Pearson correlation of the average ranks."""
    _check_pair(x, y, "spearman")
    return pearson(average_ranks(x), average_ranks(y))


def _require(module: str, metric: str):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        raise ImportError(f"{metric} needs the optional package {module.split('.')[0]!r}: "
                          f"pip install -e .[metrics]") from None


def bleu(predictions: Sequence[str], targets: Sequence) -> float:
    """Corpus BLEU (0-100) as the t5 library's `metrics.bleu` computes it: SacreBLEU with the
    international tokenizer (`tokenize="intl"`, which splits symbols such as "€" off numbers),
    exponential smoothing with value 0, case-sensitive, no effective order.

    targets: one reference string per prediction, or a list of references per prediction
    (t5 takes the transposed layout, one list per reference stream; the score is the same).
    """
    _check_pair(predictions, targets, "bleu")
    sacrebleu = _require("sacrebleu", "bleu")
    if isinstance(targets[0], (list, tuple)):
        counts = {len(t) for t in targets}
        if len(counts) != 1:
            raise ValueError(f"bleu: every prediction needs the same number of references, got "
                             f"{sorted(counts)}; pad the lists with empty strings")
        references = [[t[i] for t in targets] for i in range(counts.pop())]
    else:
        references = [list(targets)]
    score = sacrebleu.corpus_bleu(list(predictions), references, smooth_method="exp",
                                  smooth_value=0.0, force=False, lowercase=False,
                                  tokenize="intl", use_effective_order=False)
    return float(score.score)


def _summary_sentences(text: str) -> str:
    """The t5 library's sentence split for ROUGE-Lsum: a newline after each " . " (the CNN/Daily
    Mail summaries are tokenized, so a full stop stands between spaces)."""
    return text.replace(" . ", " .\n")


def rouge(predictions: Sequence[str], targets: Sequence[str]) -> dict[str, float]:
    """Mean ROUGE-1, ROUGE-2 and ROUGE-Lsum F-measures (0-100), as reported for CNN/Daily Mail.

    As the t5 library's `metrics.rouge_mean`: the `rouge_score` package with its default
    options (no stemmer), each summary split into sentences at " . " first so that ROUGE-Lsum
    (longest common subsequence per sentence, then combined) sees sentences; the mean over
    examples. (t5's `metrics.rouge` reports a bootstrap estimate of the same mean.)
    """
    _check_pair(predictions, targets, "rouge")
    rouge_scorer = _require("rouge_score.rouge_scorer", "rouge")
    types = ["rouge1", "rouge2", "rougeLsum"]
    scorer = rouge_scorer.RougeScorer(types)
    totals = dict.fromkeys(types, 0.0)
    for prediction, target in zip(predictions, targets):
        # rouge_score takes (target, prediction)
        scores = scorer.score(_summary_sentences(target), _summary_sentences(prediction))
        for name in types:
            totals[name] += scores[name].fmeasure
    return {name: 100 * total / len(targets) for name, total in totals.items()}


# ---- classification metrics of GLUE / SuperGLUE (0-100) ----------------------------------------

def _class_ids(values: Sequence, metric: str) -> np.ndarray:
    try:
        return np.asarray([int(v) for v in values], dtype=np.int64)
    except (TypeError, ValueError):
        raise ValueError(f"{metric} takes class ids (integers; -1 for an output that is no "
                         f"label, see postprocessors.string_label_to_class_id), got "
                         f"{list(values)[:5]}...") from None


def matthews_corrcoef(predictions: Sequence[int], targets: Sequence[int]) -> float:
    """Matthews correlation (CoLA), 0-100, for any number of classes (Gorodkin's R_K, what
    scikit-learn's `matthews_corrcoef` computes and t5 reports times 100):

        MCC = (c * s - sum_k p_k t_k) / sqrt((s^2 - sum_k p_k^2) (s^2 - sum_k t_k^2))

    with s examples, c of them right, p_k predicted and t_k true counts of class k. 0 when a
    denominator factor is 0 (all predictions, or all targets, one class).
    Example: targets [0 0 2 1], predictions [0 1 2 1] -> 70.
    """
    _check_pair(predictions, targets, "matthews_corrcoef")
    predicted = _class_ids(predictions, "matthews_corrcoef")
    wanted = _class_ids(targets, "matthews_corrcoef")
    classes = np.union1d(predicted, wanted)
    p = np.array([(predicted == k).sum() for k in classes], dtype=np.float64)
    t = np.array([(wanted == k).sum() for k in classes], dtype=np.float64)
    s, c = float(len(wanted)), float((predicted == wanted).sum())
    denominator = (s * s - (p * p).sum()) * (s * s - (t * t).sum())
    if denominator == 0:
        return 0.0
    return float(100 * (c * s - (p * t).sum()) / np.sqrt(denominator))


def _f1_of_class(predicted: np.ndarray, wanted: np.ndarray, k: int) -> float:
    true_positive = float(((predicted == k) & (wanted == k)).sum())
    predicted_k, wanted_k = float((predicted == k).sum()), float((wanted == k).sum())
    if predicted_k + wanted_k == 0:
        return 0.0
    return 2 * true_positive / (predicted_k + wanted_k)


def f1_with_invalid(predictions: Sequence[int], targets: Sequence[int]) -> float:
    """F1 (0-100) of class 1 (MRPC, QQP; t5's `f1_score_with_invalid`): targets are 0 or 1, and
    a prediction that is neither (an output that was no label) counts as wrong.
    Example: targets [0 1 1 0], predictions [0 1 2 2] -> 50.
    """
    _check_pair(predictions, targets, "f1_with_invalid")
    predicted = _class_ids(predictions, "f1_with_invalid")
    wanted = _class_ids(targets, "f1_with_invalid")
    if not np.isin(wanted, (0, 1)).all():
        raise ValueError(f"f1_with_invalid: targets must be 0 or 1, got {sorted(set(wanted))}")
    invalid = (predicted != 0) & (predicted != 1)
    predicted = np.where(invalid, 1 - wanted, predicted)
    return 100 * _f1_of_class(predicted, wanted, 1)


def mean_multiclass_f1(predictions: Sequence[int], targets: Sequence[int],
                       num_classes: int) -> float:
    """Unweighted mean over classes 0..num_classes-1 of each class's F1 (CB, 3 classes), 0-100
    (t5's `mean_multiclass_f1`). A prediction outside the classes counts as wrong for all.
    Example: targets [0 1 1 2], predictions [0 0 2 2], 3 classes -> 44.44.
    """
    _check_pair(predictions, targets, "mean_multiclass_f1")
    predicted = _class_ids(predictions, "mean_multiclass_f1")
    wanted = _class_ids(targets, "mean_multiclass_f1")
    return float(100 * np.mean([_f1_of_class(predicted, wanted, k) for k in range(num_classes)]))


# ---- question answering: SQuAD, ReCoRD, MultiRC (0-100) -----------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)


def normalize_squad(text: str) -> str:
    """The official SQuAD v1.1 normalisation (t5's `qa_utils.normalize_squad`): lower case,
    delete ASCII punctuation, replace the articles a/an/the by a space, collapse whitespace.
    "`Needs\tA_LOT of the 'normalization'." -> "needs alot of normalization"."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _squad_f1(target: str, prediction: str) -> float:
    # t5's qa_utils._f1_score: no shared words (two empty answers included) scores 0
    return _overlap_f1(prediction.split(), target.split())


def squad(predictions: Sequence[str], targets: Sequence) -> dict[str, float]:
    """SQuAD's exact match and F1 (0-100) after `normalize_squad`, each the best over the
    example's reference answers (t5's `metrics.squad`). targets: one answer string, or a
    list of acceptable answers, per prediction.
    Example: targets [["big moose", "hippo"], ["correct1"], ["correct2.1", "correct2.2"],
    ["a", "b"]], predictions ["‘a big  Moose!‘", "wrong", "correct2.2", "c"] -> em 25, f1 35.
    """
    _check_pair(predictions, targets, "squad")
    answers = [[t] if isinstance(t, str) else list(t) for t in targets]
    for i, options in enumerate(answers):
        if not options:
            raise ValueError(f"squad: example {i} has no reference answer; pass at least one")
    em, f1 = [], []
    for prediction, options in zip(predictions, answers):
        prediction = normalize_squad(prediction)
        options = [normalize_squad(a) for a in options]
        em.append(max(float(prediction == a) for a in options))
        f1.append(max(_squad_f1(a, prediction) for a in options))
    return {"em": 100 * float(np.mean(em)), "f1": 100 * float(np.mean(f1))}


def record(predictions: Sequence[str], targets: Sequence, groups: Sequence) -> dict[str, float]:
    """ReCoRD (t5's `deduplicate_metric(squad)`): the t5 format writes one example per correct
    entity, so each (passage, query) group is scored once, on its first example, by `squad`
    against all of that query's answers. groups: one hashable key per example."""
    _check_pair(predictions, targets, "record")
    _check_pair(groups, targets, "record groups")
    seen, kept_predictions, kept_targets = set(), [], []
    for prediction, target, group in zip(predictions, targets, groups):
        if group in seen:
            continue
        seen.add(group)
        kept_predictions.append(prediction)
        kept_targets.append(target)
    return squad(kept_predictions, kept_targets)


def multirc(predictions: Sequence[int], targets: Sequence[int],
            groups: Sequence) -> dict[str, float]:
    """MultiRC's two scores (0-100), as t5 computes them: "f1" is `f1_with_invalid` over every
    answer of every question; "exact_match" is, per question (group), 100 if all its answers
    are classified right, else 0, averaged over questions (t5's `mean_group_metric(all_match)`).
    predictions/targets: class ids (0 False, 1 True, -1 no label); groups: the question ids."""
    _check_pair(predictions, targets, "multirc")
    _check_pair(groups, targets, "multirc groups")
    by_question: dict = {}
    for prediction, target, group in zip(predictions, targets, groups):
        by_question.setdefault(group, []).append(int(prediction) == int(target))
    exact = [100.0 * all(right) for right in by_question.values()]
    return {"f1": f1_with_invalid(predictions, targets), "exact_match": float(np.mean(exact))}


# ---- the registry for `--metric` ---------------------------------------------------------------

def _text_metric(name: str, fn: Callable) -> Callable[[Sequence[str], Sequence[str]], dict]:
    def score(predictions, targets):
        return {name: fn(predictions, targets)}
    score.__doc__ = f"{{{name!r}: {fn.__name__}(predictions, targets)}}"
    return score


def _stsb_scores(predictions, targets):
    predicted = [string_to_float(p) for p in predictions]
    wanted = [string_to_float(t, default=None) for t in targets]
    if any(w is None for w in wanted):
        raise ValueError("pearson/spearman: every target must be a number such as '2.6'")
    return predicted, wanted


def _correlation(name, fn):
    def score(predictions, targets):
        predicted, wanted = _stsb_scores(predictions, targets)
        return {name: fn(predicted, wanted)}
    return score


METRICS: dict[str, Callable[[Sequence[str], Sequence[str]], dict]] = {
    "accuracy": _text_metric("accuracy", accuracy),
    "exact_match": _text_metric("exact_match", exact_match),
    "token_f1": _text_metric("token_f1", token_f1),
    "squad": squad,
    "bleu": _text_metric("bleu", bleu),
    "rouge": rouge,
    "pearson": _correlation("pearson", pearson),
    "spearman": _correlation("spearman", spearman),
}


def get_metric(name: str) -> Callable[[Sequence[str], Sequence[str]], dict]:
    """The metric called `name` in `METRICS`: (predictions, targets) -> {score name: value}."""
    if name not in METRICS:
        raise KeyError(f"unknown metric {name!r}; choose one of {', '.join(METRICS)}")
    return METRICS[name]
