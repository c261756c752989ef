"""Table 11's miniature (multi-task training, mixing strategies): its rows are the design's, and
it runs end to end at a tiny shape."""
import math

import pytest

from minit5.experiments import get, pretraining, table11
from minit5.experiments.multitask import mixture
from tests.experiments.test_multitask import tiny_config


def test_the_rows_are_the_designs():
    experiment = get("table11")
    config = experiment.config(1.0)
    assert experiment.rows == ("pre-train, then fine-tune", "equal", "K = 2^7", "K = 2^9",
                               "K = 2^11", "T = 1", "T = 2", "T = 8")
    assert config["pretrain"]["steps"] == 100 and config["pretrain"]["warmup_steps"] == 100
    assert config["pretrain"]["batch_size"] == 32 and config["finetune"]["steps"] == 200
    rows = pretraining.variants(config)
    assert rows["pre-train, then fine-tune"] == pretraining.BASELINE
    assert rows["K = 2^9"].mixture == mixture(K=2**9, finetune="mixture")
    assert rows["T = 8"].mixture == mixture("temperature", K=2**13, temperature=8,
                                            finetune="mixture")
    assert all(v.mixture.finetune == "mixture" and v.mixture.unsupervised
               for row, v in rows.items() if row != "pre-train, then fine-tune")
    assert set(experiment.paper) <= set(experiment.rows)


def test_table11_runs_end_to_end_at_a_tiny_scale(tmp_path):
    variants = table11.VARIANTS
    out = pretraining.run(tiny_config(variants, table11.PRETRAIN_STEPS), [0],
                          tmp_path / "table11")
    assert list(out["average"]) == list(variants)
    for row, values in out["average"].items():
        assert len(values) == 1 and 0 <= values[0] <= 100 and math.isfinite(values[0])
    data = out["details"]["data"]
    assert "rates" not in data["pre-train, then fine-tune"]               # one run, no seed
    assert list(data["equal"]["0"]["rates"].values()) == pytest.approx([0.25] * 4)
    e, n = data["T = 1"]["0"]["pieces"], 3 * 4                  # 4 training examples a task
    assert data["T = 1"]["0"]["rates"]["unsupervised"] == pytest.approx(e / (e + n))  # no limit
    assert data["K = 2^7"]["0"]["rates"]["unsupervised"] == pytest.approx(128 / (128 + n))
