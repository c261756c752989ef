"""minit5.experiments.recorded: the one loader the chapters use for committed results."""
import json

import pytest

from minit5.experiments import get
from minit5.experiments.recorded import describe, recorded, results_dir


def write(folder, name, results):
    path = folder / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results))
    return path


def fake_results(name, scale=0.5, **changes):
    config = get(name).config(scale)
    results = {"experiment": name, "command": f"minit5 experiment {name} --scale {scale:g}",
               "scale": scale, "config": json.loads(json.dumps(config)),
               "provenance": {"machine": "Linux x86_64, 2 CPUs", "date": "2026-01-02",
                              "wall_seconds": 90.0}}
    results.update(changes)
    return results


def test_reads_the_committed_file_of_every_chapter_table():
    results = recorded("table10")
    assert results["experiment"] == "table10"
    assert (results_dir() / "table10.json").exists()


def test_an_experiment_file_made_with_current_settings_is_returned(tmp_path):
    write(tmp_path, "table2", fake_results("table2"))
    assert recorded("table2", tmp_path)["config"] == fake_results("table2")["config"]


def test_the_paper_column_is_the_current_definitions(tmp_path):
    write(tmp_path, "table10", fake_results("table10", paper={"adapters d=32": 79.32}))
    paper = recorded("table10", tmp_path)["paper"]
    assert paper == get("table10").paper
    assert paper["adapters d=32"] == 80.52          # Table 10's GLUE column, not SQuAD's


def test_a_file_made_with_other_settings_is_refused_with_the_command_to_rerun(tmp_path):
    stale = fake_results("table2")
    stale["config"] = {**stale["config"], "made_up_setting": 1}
    write(tmp_path, "table2", stale)
    with pytest.raises(ValueError, match=r"other settings.*minit5 experiment table2 --scale 0.5"):
        recorded("table2", tmp_path)


def test_a_missing_experiment_file_names_the_command_that_makes_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"table4\.json is missing: run "
                                                r"`minit5 experiment table4`"):
        recorded("table4", tmp_path)


def test_a_missing_other_file_lists_what_is_recorded(tmp_path):
    write(tmp_path, "history/table1_design1", {"a": 1})
    with pytest.raises(FileNotFoundError, match=r"not an experiment.*history/table1_design1"):
        recorded("table1_tunning", tmp_path)


def test_a_file_that_is_not_an_experiment_is_read_unchecked(tmp_path):
    write(tmp_path, "history/table1_design1", {"config": "anything"})
    assert recorded("history/table1_design1", tmp_path) == {"config": "anything"}


def test_a_broken_file_says_so(tmp_path):
    (tmp_path / "table2.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        recorded("table2", tmp_path)


def test_describe_gives_command_machine_date_and_minutes():
    text = describe(fake_results("table2"))
    assert text == ("made by: minit5 experiment table2 --scale 0.5\n"
                    "on: Linux x86_64, 2 CPUs, 2026-01-02, 1.5 min")
