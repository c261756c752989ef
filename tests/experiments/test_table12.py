"""Table 12's miniature (multi-task pre-training, leave-one-out, supervised pre-training): its
rows are the design's, it shares runs with Table 11, and it runs end to end at a tiny shape."""
import math

import pytest

from minit5.experiments import get, pretraining, table11, table12
from minit5.experiments.multitask import EACH, mixture
from tests.experiments.test_multitask import TASKS, tiny_config


def test_the_rows_are_the_designs():
    experiment = get("table12")
    rows = pretraining.variants(experiment.config(1.0))
    eleven = table11.EXPERIMENT.config(1.0)
    assert experiment.config(1.0)["pretrain"] == eleven["pretrain"]
    assert rows["unsupervised pre-training + fine-tuning"] == \
        pretraining.variants(eleven)["pre-train, then fine-tune"]
    assert rows["multi-task training"] == pretraining.variants(eleven)["K = 2^9"]
    assert table12.VARIANTS["multi-task training"] is table11.VARIANTS["K = 2^9"]   # one object
    assert rows["multi-task pre-training + fine-tuning"].mixture == mixture(K=2**9)
    assert rows["leave-one-out"].mixture == mixture(K=2**9, leave_out=EACH)
    assert rows["supervised multi-task pre-training"].mixture == mixture(unsupervised=False)
    assert set(experiment.paper) == set(experiment.rows)


def test_table12_runs_end_to_end_at_a_tiny_scale_sharing_runs(tmp_path):
    variants = table12.VARIANTS
    work = tmp_path / "table12"
    out = pretraining.run(tiny_config(variants, table11.PRETRAIN_STEPS), [0, 1], work)
    for row, values in out["average"].items():
        assert len(values) == 2 and all(0 <= v <= 100 and math.isfinite(v) for v in values)
    # pre-trainings: the unsupervised one once; per seed, the K = 2^9 mixture (shared by
    # multi-task training and multi-task pre-training), three leave-one-out ones, the
    # supervised one
    pretrained = list((pretraining.cache_dir(work) / "pretrained").iterdir())
    assert len(pretrained) == 1 + 2 * (1 + 3 + 1)
    for entry in out["rows"]["leave-one-out"]:
        parts = entry["parts"]
        assert [p["score_tasks"] for p in parts.values()] == [[t] for t in TASKS]
        for t, part in zip(TASKS, parts.values()):
            assert part["score_on_them"] == pytest.approx(100 * part["test"][t]["accuracy"])
        assert entry["score"] == pytest.approx(
            sum(p["score_on_them"] for p in parts.values()) / 3)
    curves = out["details"]["pretraining"]["leave-one-out: without pair"]
    assert set(curves) == {"0", "1"}
