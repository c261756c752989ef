"""`minit5 experiment`'s workers (experiments.core.parallel_map): a worker that dies is noticed
at once and named by its item, workers die with their parent, and Ctrl-C stops everything
without a worker's traceback. Each case runs in a subprocess, so a hang fails the test (by
its timeout) instead of hanging the suite."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from minit5.experiments.core import parallel_map

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork and signals")


def _script(tmp_path, body: str):
    path = tmp_path / "job.py"
    path.write_text(textwrap.dedent(body))
    return [sys.executable, str(path)]


def test_results_come_back_in_order_and_a_workers_error_is_raised_here():
    assert parallel_map(lambda x: x * x, range(5), 2) == [0, 1, 4, 9, 16]

    def fails_on_three(x):
        if x == 3:
            raise KeyError(f"no item {x}")
        return x
    with pytest.raises(KeyError, match="no item 3"):
        parallel_map(fails_on_three, range(5), 2)


def test_a_killed_worker_is_noticed_at_once_and_named(tmp_path):
    """As the out-of-memory killer does: SIGKILL to one worker mid-run."""
    command = _script(tmp_path, """
        import os, signal, time
        from minit5.experiments.core import parallel_map

        def run(row):
            if row == ("from scratch", 1):
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(0.2)
            return row
        parallel_map(run, [("pre-trained", 0), ("from scratch", 1), ("pre-trained", 1)], 2)
    """)
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 30
    assert done.returncode != 0
    assert "WorkerDied" in done.stderr
    assert "the worker running ('from scratch', 1) (item 2 of 3" in done.stderr
    assert "was killed by SIGKILL (the out-of-memory killer" in done.stderr


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:                                   # a zombie is dead; only its parent can reap it
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    return True


def test_workers_die_with_their_parent(tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    command = _script(tmp_path, f"""
        import os, time
        from minit5.experiments.core import parallel_map

        def run(i):
            open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
            for _ in range(600):
                time.sleep(0.1)            # a long training run, still writing
            return i
        parallel_map(run, range(2), 2)
    """)
    parent = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 60
        while len(list(pids.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = [int(p.name) for p in pids.iterdir()]
        assert len(workers) == 2
        parent.kill()                      # SIGKILL: no Python code of the parent runs
        parent.wait()
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in workers), "a worker outlived its parent"
    finally:
        for pid in [int(p.name) for p in pids.iterdir()]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_ctrl_c_stops_the_workers_without_their_tracebacks(tmp_path):
    started = tmp_path / "started"
    started.mkdir()
    command = _script(tmp_path, f"""
        import os, sys, time
        from minit5.experiments.core import parallel_map

        def run(i):
            open(os.path.join({str(started)!r}, str(os.getpid())), "w").close()
            time.sleep(60)
            return i
        try:
            parallel_map(run, range(2), 2)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            sys.exit(130)
    """)
    # A terminal sends Ctrl-C's SIGINT to the whole foreground process group.
    job = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(list(started.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(job.pid, signal.SIGINT)
        _, err = job.communicate(timeout=30)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    assert job.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.strip() == "interrupted"
    workers = [int(p.name) for p in started.iterdir()]
    assert not any(_alive(pid) for pid in workers)
