"""Metrics for text-to-text tasks (paper §2.3, §2.4): the model writes text, the metric reads it.

Accuracy and exact match compare strings; Pearson and Spearman correlation (STS-B, §2.4) compare
numbers parsed from strings. All are written with NumPy only. BLEU and ROUGE (translation and
summarisation, §2.3) wrap the standard packages, which are optional: `pip install -e .[metrics]`.
"""
from __future__ import annotations

import collections
from typing import Sequence

import numpy as np


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
    """Mean F1 of the word overlap between each prediction and its target (the SQuAD-style
    partial credit): precision = shared / predicted words, recall = shared / target words."""
    _check_pair(predictions, targets, "token_f1")
    scores = []
    for prediction, target in zip(predictions, targets):
        predicted, wanted = prediction.split(), target.split()
        if not predicted or not wanted:
            scores.append(float(predicted == wanted))
            continue
        shared = sum((collections.Counter(predicted) & collections.Counter(wanted)).values())
        if shared == 0:
            scores.append(0.0)
            continue
        precision, recall = shared / len(predicted), shared / len(wanted)
        scores.append(2 * precision * recall / (precision + recall))
    return float(np.mean(scores))


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


def bleu(predictions: Sequence[str], targets: Sequence[str]) -> float:
    """Corpus BLEU (0-100) with sacrebleu's defaults, one reference per prediction (the paper
    scores WMT translation with SacreBLEU)."""
    _check_pair(predictions, targets, "bleu")
    sacrebleu = _require("sacrebleu", "bleu")
    return float(sacrebleu.corpus_bleu(list(predictions), [list(targets)]).score)


def rouge(predictions: Sequence[str], targets: Sequence[str]) -> dict[str, float]:
    """Mean ROUGE-1, ROUGE-2 and ROUGE-Lsum F-measures (0-100), as reported for CNN/Daily Mail."""
    _check_pair(predictions, targets, "rouge")
    rouge_scorer = _require("rouge_score.rouge_scorer", "rouge")
    types = ["rouge1", "rouge2", "rougeLsum"]
    scorer = rouge_scorer.RougeScorer(types)
    totals = dict.fromkeys(types, 0.0)
    for prediction, target in zip(predictions, targets):
        scores = scorer.score(target, prediction)  # rouge_score takes (target, prediction)
        for name in types:
            totals[name] += scores[name].fmeasure
    return {name: 100 * total / len(targets) for name, total in totals.items()}
