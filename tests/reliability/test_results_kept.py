"""`minit5 experiment` never throws computed results away: a results file that cannot be
written (a full disk, injected as OSError(ENOSPC)) is tried once more, then written next to the
work folder or printed, and the error says where they are; no temporary is left behind."""
import builtins
import errno
import io
import json
import math
import subprocess
import sys

import pytest

from minit5.experiments import core
from minit5.experiments.core import Experiment, run_experiment

SCORES = {"a": [10.0, 20.0], "b": [1.0, 2.0]}


def _toy():
    def run(config, seeds, work_dir, device, progress, jobs):
        rows = {row: [{"seed": s, "score": SCORES[row][s]} for s in seeds] for row in SCORES}
        return {"rows": rows, "average": {r: [x["score"] for x in v] for r, v in rows.items()}}
    return Experiment(name="toy", table="Table 0", section="§0", title="toy", rows=tuple(SCORES),
                      paper={"a": 50.0}, metric="score", cpu_minutes=0.0, default_seeds=2,
                      config=lambda scale: {"steps": int(10 * scale)}, run=run)


def _full_disk(monkeypatch, folder, failures):
    """Opening a file for writing inside `folder` fails with ENOSPC, `failures` times."""
    real = builtins.open
    calls = []

    def opener(file, mode="r", *args, **kwargs):
        inside = str(file).startswith(str(folder))
        if inside and any(c in mode for c in "wax") and len(calls) < failures:
            calls.append(str(file))
            raise OSError(errno.ENOSPC, "No space left on device", str(file))
        return real(file, mode, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", opener)
    monkeypatch.setattr(io, "open", opener)
    monkeypatch.setattr(core, "RETRY_PAUSE", 0.0, raising=False)
    return calls


def test_a_full_disk_keeps_the_results_beside_the_work_folder(tmp_path, monkeypatch):
    out, work = tmp_path / "results" / "toy.json", tmp_path / "runs" / "toy"
    out.parent.mkdir()
    calls = _full_disk(monkeypatch, out.parent, failures=10)
    with pytest.raises(OSError) as error:
        run_experiment(_toy(), work_dir=work, out=out)
    message = str(error.value)
    spare = tmp_path / "runs" / "toy.results.json"
    assert f"could not write {out}" in message and "the disk is full" in message
    assert "tried twice" in message and f"written to {spare} instead" in message
    assert len([c for c in calls if "toy.json" in c]) == 2           # the path, once more
    saved = json.loads(spare.read_text())
    assert saved["average"] == SCORES and saved["experiment"] == "toy"
    assert list(out.parent.iterdir()) == []                          # no temporary left


def test_with_nowhere_to_write_the_results_are_printed(tmp_path, monkeypatch, capsys):
    out, work = tmp_path / "results" / "toy.json", tmp_path / "runs" / "toy"
    out.parent.mkdir()
    _full_disk(monkeypatch, tmp_path, failures=10)
    with pytest.raises(OSError, match="printed on standard output above; save them as"):
        run_experiment(_toy(), work_dir=work, out=out)
    printed = json.loads(capsys.readouterr().out)
    assert printed["average"] == SCORES


def test_a_passing_failure_costs_nothing(tmp_path, monkeypatch):
    out = tmp_path / "results" / "toy.json"
    out.parent.mkdir()
    _full_disk(monkeypatch, out.parent, failures=1)
    run_experiment(_toy(), work_dir=tmp_path / "runs" / "toy", out=out)
    assert json.loads(out.read_text())["average"] == SCORES


@pytest.mark.parametrize("scale", [math.inf, math.nan])
def test_an_infinite_scale_is_refused(tmp_path, scale):
    with pytest.raises(ValueError, match="scale must be positive and finite"):
        run_experiment(_toy(), scale=scale, out=tmp_path / "x.json")


def test_scale_inf_on_the_command_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "minit5.cli", "experiment", "table1", "--scale",
                           "inf", "--work", str(tmp_path / "w"), "--out",
                           str(tmp_path / "t.json")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == ("minit5 experiment: error: scale must be positive and finite "
                                   "(1 is the recorded budget, 0.05 a quick look), got inf")
