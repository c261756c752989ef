"""The experiment mechanism: results files, provenance, the nan refusal, the command line."""
import json
import math

import pytest

from minit5.cli import main
from minit5.experiments import MODULES, get
from minit5.experiments.core import Experiment, format_table, results_path, run_experiment, summary


def _toy(scores):
    """An experiment whose 'training' returns fixed per-seed scores (no model involved)."""
    def run(config, seeds, work_dir, device, progress, jobs):
        rows = {row: [{"seed": s, "score": scores[row][s]} for s in seeds] for row in scores}
        return {"rows": rows, "average": {r: [x["score"] for x in v] for r, v in rows.items()}}
    return Experiment(name="toy", table="Table 0", section="§0", title="toy", rows=tuple(scores),
                      paper={"a": 50.0}, metric="score", cpu_minutes=0.0, default_seeds=3,
                      config=lambda scale: {"steps": int(10 * scale)}, run=run)


def test_results_file_holds_per_seed_scores_config_and_provenance(tmp_path):
    toy = _toy({"a": [10.0, 20.0, 30.0], "b": [1.0, 2.0, 3.0]})
    out = tmp_path / "toy.json"
    results = run_experiment(toy, scale=0.5, work_dir=tmp_path / "work", out=out)
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(results))
    assert saved["config"] == {"steps": 5} and saved["scale"] == 0.5
    assert saved["seeds"] == [0, 1, 2] and saved["average"]["a"] == [10.0, 20.0, 30.0]
    assert saved["summary"]["a"] == {"mean": 20.0, "std": 10.0}
    assert saved["command"] == "minit5 experiment toy --scale 0.5 --seeds 3"
    for key in ("python", "numpy", "machine", "date", "wall_seconds"):
        assert saved["provenance"][key] is not None
    assert (tmp_path / "toy.png").stat().st_size > 1000
    table = format_table(saved)
    assert "20.00" in table and "10.00" in table and "50.00" in table and "nan" not in table


def test_a_nan_score_is_refused_not_recorded(tmp_path):
    toy = _toy({"a": [1.0, float("nan"), 2.0]})
    with pytest.raises(RuntimeError, match="non-finite"):
        run_experiment(toy, work_dir=tmp_path, out=tmp_path / "toy.json")
    assert not (tmp_path / "toy.json").exists()


def test_bad_scale_and_seeds_are_refused(tmp_path):
    with pytest.raises(ValueError, match="scale must be positive"):
        run_experiment(_toy({"a": [1.0]}), scale=0, out=tmp_path / "x.json")
    with pytest.raises(ValueError, match="seeds must be at least 1"):
        run_experiment(_toy({"a": [1.0]}), seeds=0, out=tmp_path / "x.json")


def test_summary_and_results_path():
    assert summary([4.0]) == {"mean": 4.0, "std": 0.0}
    assert math.isclose(summary([1.0, 3.0])["std"], math.sqrt(2))
    assert results_path("table1", 1.0).name == "table1.json"
    assert results_path("table1", 0.1).name == "table1_scale0.1.json"


def test_list_names_every_experiment_with_its_table_and_budget(capsys):
    assert main(["experiment", "--list"]) == 0
    out = capsys.readouterr().out
    for name in MODULES:
        experiment = get(name)
        assert name in out and experiment.table in out
        assert f"{experiment.cpu_minutes:.0f} min" in out


def test_unknown_experiment_and_missing_name_are_explained(capsys):
    assert main(["experiment", "table99"]) != 0
    assert "no experiment 'table99'" in capsys.readouterr().err
    assert main(["experiment"]) != 0
    assert "--list" in capsys.readouterr().err
