"""Every committed results file must still describe its experiment's current definition, so a
recorded number cannot drift from the code that claims to produce it."""
import json
import math
import pathlib

import pytest

from minit5.experiments import MODULES, get
from minit5.experiments.core import summary

RESULTS = pathlib.Path(__file__).resolve().parents[2] / "experiments" / "results"
FILES = sorted(p for p in RESULTS.glob("*.json") if "_tuning" not in p.name)


def test_every_experiment_has_recorded_results():
    recorded = {json.loads(p.read_text())["experiment"] for p in FILES}
    assert set(MODULES) <= recorded, f"no results file for {set(MODULES) - recorded}: run " \
                                     "minit5 experiment NAME and commit experiments/results/"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_recorded_results_match_their_definition(path):
    results = json.loads(path.read_text())
    experiment = get(results["experiment"])
    current = json.loads(json.dumps(experiment.config(results["scale"])))
    assert results["config"] == current, (
        f"{path.name} was made with other settings than {experiment.name}'s definition now "
        f"gives: re-run `{results['command']}` and commit the new file")
    assert tuple(results["average"]) == experiment.rows
    assert len(results["seeds"]) >= 3
    for row, values in results["average"].items():
        assert len(values) == len(results["seeds"])
        assert all(math.isfinite(v) for v in values)
        assert [r["score"] for r in results["rows"][row]] == values
        assert results["summary"][row] == pytest.approx(summary(values))
    assert path.with_suffix(".png").exists()


def test_table1_learning_rate_is_the_one_its_tuning_chose():
    from minit5.experiments import table1
    tuning = json.loads((RESULTS / "table1_tuning.json").read_text())
    assert tuning["chosen_lr"] == table1.FINETUNE["lr"]
    scores = tuning["validation_score"]
    assert max(scores, key=lambda lr: sum(scores[lr].values())) == f"{tuning['chosen_lr']:g}"
    settings = table1.config(tuning["scale"])
    recorded = tuning["config"]
    assert {k: v for k, v in recorded.items() if k != "finetune"} == \
        {k: v for k, v in settings.items() if k != "finetune"}
    assert {k: v for k, v in recorded["finetune"].items() if k != "lr"} == \
        {k: v for k, v in settings["finetune"].items() if k != "lr"}
