"""A killed or interrupted `minit5 experiment`, run again, gives the results of an uninterrupted
run: Table 1's miniature at a tiny shape, in real subprocesses of the command line, stopped by
Ctrl-C, by SIGKILL and by a worker's SIGKILL while its two fine-tuning workers run."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork and signals")

# `minit5 experiment table1` with tests/experiments' tiny shape in place of the real one.
SCRIPT = textwrap.dedent("""
    import dataclasses, sys
    import minit5.experiments as experiments
    from minit5.cli import main
    from minit5.experiments import table1
    from tests.experiments.test_table1 import _tiny_config

    tiny = dataclasses.replace(table1.EXPERIMENT, config=lambda scale: _tiny_config())
    experiments.get = lambda name: tiny
    sys.exit(main(["experiment", "table1", "--work", sys.argv[1], "--out", sys.argv[2],
                   "--jobs", "2", "--seeds", "1"]))
""")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _start(work, out):
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(work), str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _stop_while_fine_tuning(work, out, how):
    """Start the experiment, and once a fine-tuning run has logged a step, stop it `how`."""
    started = time.time()
    job = _start(work, out)

    def fine_tuning():                     # a log line of this run's (not an earlier run's)
        for log in work.glob("table1/finetune-*/log.jsonl"):
            try:
                stat = log.stat()
            except FileNotFoundError:
                continue
            if stat.st_size and stat.st_mtime > started:
                return True
        return False
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and job.poll() is None and not fine_tuning():
            time.sleep(0.05)
        assert job.poll() is None, "the experiment ended before it could be stopped"
        if how == "ctrl-c":
            os.killpg(job.pid, signal.SIGINT)     # a terminal sends it to the whole group
        elif how == "kill a worker":              # as the out-of-memory killer does
            with open(f"/proc/{job.pid}/task/{job.pid}/children") as f:
                os.kill(int(f.read().split()[0]), signal.SIGKILL)
        else:
            job.kill()                            # SIGKILL, to the parent alone
        _, err = job.communicate(timeout=120)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    return job.returncode, err


def _finish(work, out):
    job = _start(work, out)
    _, err = job.communicate(timeout=600)
    assert job.returncode == 0, err
    return json.loads(out.read_text())


def test_a_stopped_experiment_run_again_gives_the_uninterrupted_results(tmp_path):
    straight = _finish(tmp_path / "straight", tmp_path / "straight.json")

    work, out = tmp_path / "stopped", tmp_path / "stopped.json"
    code, err = _stop_while_fine_tuning(work, out, "ctrl-c")
    assert code == 130 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == (
        "minit5 experiment: interrupted; no results file was written for table1. The finished "
        f"runs cached under {work} (pre-trained models, and fine-tuning results where the "
        "experiment caches them) are reused by the same command; runs that were in progress "
        "start again")
    code, _ = _stop_while_fine_tuning(work, out, "kill")
    assert code == -signal.SIGKILL and not out.exists()
    if os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"):
        code, err = _stop_while_fine_tuning(work, out, "kill a worker")
        assert code == 2 and "Traceback" not in err, err
        line = err.strip().splitlines()[-1]
        assert line.startswith("minit5 experiment: error: the worker running (")
        assert "was killed by SIGKILL (the out-of-memory killer" in line
        assert line.endswith("are reused by the same command; runs that were in progress "
                             "start again")

    again = _finish(work, out)
    for key in ("rows", "average", "summary", "details", "config", "seeds"):
        assert again[key] == straight[key], key
