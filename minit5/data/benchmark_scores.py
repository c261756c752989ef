"""The GLUE and SuperGLUE averages (the "GLUE" and "SGLUE" columns of the paper's tables).

The benchmarks' own rule, which the paper reports: a task with two metrics scores the mean
of the two (MRPC and QQP: F1 and accuracy; STS-B: Pearson and Spearman; MNLI: matched and
mismatched accuracy; CB: mean F1 and accuracy; MultiRC: F1 and exact match; ReCoRD: F1 and
exact match), and the benchmark score is the plain mean over tasks. All scores are 0-100, as
`minit5.data.metrics` gives them for these tasks. The metrics each task reports are those of
the t5 library's `glue_utils.GLUE_METRICS` and `SUPERGLUE_METRICS`.

GLUE's average here leaves WNLI out, as the paper's validation tables do (T5 trains on WSC and
DPR in its place); the diagnostic sets (AX, AX-b, AX-g) have no validation labels and no place
in either average.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

GLUE_TASK_METRICS: dict[str, tuple[str, ...]] = {
    "cola": ("matthews_corrcoef",),
    "sst2": ("accuracy",),
    "mrpc": ("f1", "accuracy"),
    "stsb": ("pearson", "spearman"),
    "qqp": ("f1", "accuracy"),
    "mnli": ("matched_accuracy", "mismatched_accuracy"),
    "qnli": ("accuracy",),
    "rte": ("accuracy",),
}

SUPERGLUE_TASK_METRICS: dict[str, tuple[str, ...]] = {
    "boolq": ("accuracy",),
    "cb": ("mean_3class_f1", "accuracy"),
    "copa": ("accuracy",),
    "multirc": ("f1", "exact_match"),
    "record": ("f1", "em"),
    "rte": ("accuracy",),
    "wic": ("accuracy",),
    "wsc": ("accuracy",),
}


def benchmark_average(scores: Mapping[str, Mapping[str, float]],
                      task_metrics: Mapping[str, tuple[str, ...]]) -> float:
    """Mean over the tasks of `task_metrics` of the mean of each task's metrics.

    scores: {task: {metric: value}} with every task and metric of `task_metrics` present
    (extra entries are ignored). A missing one is a KeyError naming it: an average over fewer
    tasks is not the benchmark's score.
    Example: {"cola": {"matthews_corrcoef": 50}, "mrpc": {"f1": 90, "accuracy": 80}} over
    those two tasks -> (50 + 85) / 2 = 67.5.
    """
    per_task = []
    for task, metrics in task_metrics.items():
        if task not in scores:
            raise KeyError(f"benchmark_average: no scores for task {task!r}; the average needs "
                           f"all of {', '.join(task_metrics)}")
        missing = [m for m in metrics if m not in scores[task]]
        if missing:
            raise KeyError(f"benchmark_average: task {task!r} lacks {missing}; it reports "
                           f"{', '.join(metrics)}")
        per_task.append(np.mean([float(scores[task][m]) for m in metrics]))
    return float(np.mean(per_task))


def glue_average(scores: Mapping[str, Mapping[str, float]]) -> float:
    """The GLUE average (WNLI left out, see the module docstring)."""
    return benchmark_average(scores, GLUE_TASK_METRICS)


def superglue_average(scores: Mapping[str, Mapping[str, float]]) -> float:
    """The SuperGLUE average over its eight tasks."""
    return benchmark_average(scores, SUPERGLUE_TASK_METRICS)
