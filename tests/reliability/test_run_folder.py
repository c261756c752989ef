"""One writer per run folder: a second training run into a folder that a run is writing is
refused at once with an error naming the holder's pid (minit5.io.folder_lock), and a lock left
by a killed run never blocks the next one."""
import os
import subprocess
import sys
import textwrap

import pytest

from tests.train.test_trainer import config, trainer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")

HOLD = textwrap.dedent("""
    import sys, time
    from minit5.io.folder_lock import hold_folder
    with hold_folder(sys.argv[1], "--run folder"):
        print("held", flush=True)
        time.sleep(120)
""")


def _holder(folder):
    """A process holding `folder`, as a training run does; returns it once it holds it."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_writer_is_refused_naming_the_first(tmp_path):
    from minit5.io.folder_lock import FolderInUse, hold_folder
    run = tmp_path / "run"
    run.mkdir()
    holder = _holder(run)
    try:
        with pytest.raises(FolderInUse, match=f"--run folder {run} is in use by process "
                                              f"{holder.pid}") as error:
            with hold_folder(run, "--run folder"):
                pass
        assert error.value.pid == holder.pid
    finally:
        holder.kill()
        holder.wait()
    with hold_folder(run):                 # the kernel dropped the killed holder's lock
        with hold_folder(run):             # and a process may hold its own folder again
            assert (run / ".minit5-lock").read_text().strip() == str(os.getpid())


def test_a_trainer_refuses_a_folder_another_run_is_writing(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    holder = _holder(run)
    try:
        with pytest.raises(RuntimeError, match=f"is in use by process {holder.pid}"):
            trainer(config(steps=2), run).train()
        assert not (run / "log.jsonl").exists() and not (run / "checkpoints").exists()
    finally:
        holder.kill()
        holder.wait()


def test_a_training_run_holds_its_folder(tmp_path):
    """While a Trainer trains, another process cannot take its folder."""
    run = tmp_path / "run"
    seen = []

    def try_to_take(step):
        if step == 1:
            done = subprocess.run([sys.executable, "-c", HOLD, str(run)], capture_output=True,
                                  text=True, timeout=60)
            seen.append(done.stderr.strip().splitlines()[-1])
    t = trainer(config(steps=2), run)
    t.before_step = try_to_take
    t.train()
    assert seen and f"is in use by process {os.getpid()}" in seen[0]


def test_two_train_commands_in_one_folder(tmp_path):
    """`minit5 train` itself: the second run gets one line naming the first's pid, exit 2."""
    run = tmp_path / "run"
    run.mkdir()
    holder = _holder(run)
    try:
        done = subprocess.run([sys.executable, "-m", "minit5.cli", "train", "finetune", "--run",
                               str(run), "--tokenizer", str(tmp_path / "absent.model")],
                              capture_output=True, text=True, timeout=120)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"minit5 train: error: --run folder {run} is in use by process {holder.pid} (a minit5 "
        "run writing there): two runs in one folder would mix their logs and overwrite each "
        f"other's checkpoints. Wait for it to end or stop it (kill {holder.pid}), or choose "
        "another folder")
