"""GLUE and SuperGLUE averages: a task's metrics averaged first, then the tasks (by hand)."""
import pytest

from minit5.data.benchmark_scores import (
    GLUE_TASK_METRICS,
    SUPERGLUE_TASK_METRICS,
    benchmark_average,
    glue_average,
    superglue_average,
)


def test_two_metric_tasks_count_once():
    scores = {"cola": {"matthews_corrcoef": 50}, "mrpc": {"f1": 90, "accuracy": 80}}
    tasks = {"cola": ("matthews_corrcoef",), "mrpc": ("f1", "accuracy")}
    assert benchmark_average(scores, tasks) == pytest.approx((50 + 85) / 2)


def test_glue_and_superglue_need_every_task():
    glue = {task: {m: 80.0 for m in metrics} for task, metrics in GLUE_TASK_METRICS.items()}
    glue["cola"]["matthews_corrcoef"] = 40.0
    glue["mnli"] = {"matched_accuracy": 84.0, "mismatched_accuracy": 86.0}
    assert glue_average(glue) == pytest.approx((40 + 6 * 80 + 85) / 8)
    superglue = {t: {m: 70.0 for m in ms} for t, ms in SUPERGLUE_TASK_METRICS.items()}
    assert superglue_average(superglue) == pytest.approx(70)
    del glue["rte"]
    with pytest.raises(KeyError, match="no scores for task 'rte'"):
        glue_average(glue)
    superglue["cb"] = {"accuracy": 70.0}
    with pytest.raises(KeyError, match="lacks"):
        superglue_average(superglue)
