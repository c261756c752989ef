"""The save protocol (minit5.io.atomic_directory) under faults: a kill after each of its steps, a
failing fsync, a full disk, a mount point as the target, a long name, the umask. Each time the
folder reads back as exactly the old or exactly the new model, byte for byte, and files
minit5 did not write survive."""
import errno
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest

from minit5 import T5Config, T5ForConditionalGeneration
from minit5.io.atomic_directory import COMMIT, STAGING, checkpoint_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
SMALL = dict(vocab_size=40, d_model=16, d_kv=4, d_ff=24, num_heads=2, num_layers=1,
             dropout_rate=0.0)
FILES = ("config.json", "model.safetensors")
FOREIGN = {"spiece.model": b"a tokenizer minit5 did not write", "notes/README": b"mine"}
PRIMITIVES = ("mkdir", "rename", "replace", "fsync", "rmdir", "unlink")


def model(seed, **changes):
    return T5ForConditionalGeneration(T5Config(**{**SMALL, **changes}), seed=seed)


def files_of(directory):
    """name -> bytes of the checkpoint's files, read the way minit5 reads them."""
    return {name: checkpoint_file(directory, name).read_bytes() for name in FILES
            if checkpoint_file(directory, name).is_file()}


def add_foreign(directory):
    for name, data in FOREIGN.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(data)


def assert_foreign_intact(directory):
    for name, data in FOREIGN.items():
        assert (directory / name).read_bytes() == data, f"{name} was touched"


def assert_loads_as_one_of(directory, *versions):
    """The folder's files equal one version's whole, and from_pretrained gives that model."""
    found = files_of(directory)
    matches = [i for i, v in enumerate(versions) if found == v["files"]]
    assert matches, f"{directory} holds neither the old nor the new checkpoint: {sorted(found)}"
    loaded = T5ForConditionalGeneration.from_pretrained(directory).state_dict()
    expected = versions[matches[0]]["state"]
    assert list(loaded) == list(expected)
    for name in expected:
        assert loaded[name].tobytes() == expected[name].tobytes(), name
    assert not (directory / STAGING).exists() and not (directory / COMMIT).exists(), \
        "loading did not clear what the interrupted save left"
    return matches[0]


@pytest.fixture
def versions(tmp_path):
    """Two different checkpoints' files and weights, saved in reference folders."""
    out = []
    for i, m in enumerate((model(0), model(1, d_ff=32))):
        m.save_pretrained(tmp_path / f"reference{i}")
        out.append({"model": m, "files": files_of(tmp_path / f"reference{i}"),
                    "state": m.state_dict()})
    return out


def test_resave_keeps_foreign_files_and_honours_the_umask(tmp_path, versions):
    target = tmp_path / "ckpt"
    target.mkdir()
    add_foreign(target)
    old_umask = os.umask(0o027)
    try:
        versions[0]["model"].save_pretrained(target)
        versions[1]["model"].save_pretrained(target)
        versions[1]["model"].save_pretrained(tmp_path / "fresh" / "nested")
    finally:
        os.umask(old_umask)
    assert_foreign_intact(target)
    assert assert_loads_as_one_of(target, *versions) == 1
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "model.safetensors",
                                                        "notes", "spiece.model"]
    fresh = tmp_path / "fresh" / "nested"
    assert fresh.stat().st_mode & 0o777 == 0o750
    assert (fresh / "model.safetensors").stat().st_mode & 0o777 == 0o640


def test_a_long_legal_name_works(tmp_path, versions):
    target = tmp_path / ("m" * 250)
    for v in versions:
        v["model"].save_pretrained(target)
    assert assert_loads_as_one_of(target, *versions) == 1


def test_the_target_itself_is_never_renamed(tmp_path, versions, monkeypatch):
    """A mount point cannot be renamed (EBUSY); the protocol never asks to."""
    target = tmp_path / "volume"
    versions[0]["model"].save_pretrained(target)
    for name in ("rename", "replace"):
        real = getattr(os, name)

        def refuse_target(src, dst, *args, _real=real, **kwargs):
            if pathlib.Path(target) in (pathlib.Path(src), pathlib.Path(dst)):
                raise OSError(errno.EBUSY, "Device or resource busy", str(target))
            return _real(src, dst, *args, **kwargs)
        monkeypatch.setattr(os, name, refuse_target)
    versions[1]["model"].save_pretrained(target)
    assert assert_loads_as_one_of(target, *versions) == 1


def test_a_file_as_target_is_refused(tmp_path, versions):
    target = tmp_path / "model.bin"
    target.write_bytes(b"x")
    with pytest.raises(NotADirectoryError, match="it is a file; pass a folder"):
        versions[0]["model"].save_pretrained(target)


# ---- a kill after each step -----------------------------------------------------------
def save_in_child(target, m, kill_after):
    """Save `m` in a forked child that dies (os._exit: no cleanup runs) right after its
    `kill_after`-th primitive file-system step; returns how many steps a full save took."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:                                   # the child
        os.close(read_end)
        count = [0]

        def counted(real):
            def step(*args, **kwargs):
                result = real(*args, **kwargs)
                count[0] += 1
                if count[0] == kill_after:
                    os._exit(0)
                return result
            return step
        for name in PRIMITIVES:
            setattr(os, name, counted(getattr(os, name)))
        try:
            m.save_pretrained(target)
        finally:
            os.write(write_end, str(count[0]).encode())
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end) as f:
        return int(f.read() or 0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_kill_after_any_step_leaves_old_or_new(tmp_path, versions):
    versions[0]["model"].save_pretrained(tmp_path / "probe")
    total = save_in_child(tmp_path / "probe", versions[1]["model"], kill_after=-1)   # a re-save
    assert total >= 8, f"a save took only {total} steps: the counting is broken"
    outcomes = []
    for kill_after in range(1, total + 1):
        target = tmp_path / f"k{kill_after}"
        versions[0]["model"].save_pretrained(target)
        add_foreign(target)
        save_in_child(target, versions[1]["model"], kill_after)
        outcomes.append(assert_loads_as_one_of(target, *versions))
        assert_foreign_intact(target)
        versions[1]["model"].save_pretrained(target)      # and the next save works
        assert assert_loads_as_one_of(target, *versions) == 1
    assert outcomes[0] == 0 and outcomes[-1] == 1 and outcomes == sorted(outcomes), outcomes


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_kill_during_a_first_save_leaves_nothing_or_new(tmp_path, versions):
    total = save_in_child(tmp_path / "probe", versions[0]["model"], kill_after=-1)
    for kill_after in range(1, total + 1):
        target = tmp_path / f"k{kill_after}"
        save_in_child(target, versions[0]["model"], kill_after)
        if files_of(target):
            assert assert_loads_as_one_of(target, versions[0]) == 0
        else:
            with pytest.raises(FileNotFoundError):
                T5ForConditionalGeneration.from_pretrained(target)


def test_a_read_only_reader_sees_the_new_checkpoint_mid_install(tmp_path, versions):
    """After a kill inside the install step, reading needs no write: the view is whole."""
    target = tmp_path / "ckpt"
    versions[0]["model"].save_pretrained(target)
    (target / COMMIT).mkdir()
    (target / COMMIT / "model.safetensors").write_bytes(versions[1]["files"]["model.safetensors"])
    (target / "config.json").write_bytes(versions[1]["files"]["config.json"])  # installed
    assert files_of(target) == versions[1]["files"]
    assert assert_loads_as_one_of(target, *versions) == 1


# ---- a failing disk ---------------------------------------------------------------------
def test_fsync_errors_raise_and_leave_old_or_new(tmp_path, versions, monkeypatch):
    real = os.fsync
    calls = [0]

    def counting(fd):
        calls[0] += 1
        return real(fd)
    versions[0]["model"].save_pretrained(tmp_path / "probe")
    monkeypatch.setattr(os, "fsync", counting)
    versions[1]["model"].save_pretrained(tmp_path / "probe")     # a re-save, as below
    total = calls[0]
    assert total >= 4
    for failing in range(1, total + 1):
        target = tmp_path / f"f{failing}"
        monkeypatch.setattr(os, "fsync", real)
        versions[0]["model"].save_pretrained(target)
        add_foreign(target)
        calls[0] = 0

        def eio_once(fd, _failing=failing):
            calls[0] += 1
            if calls[0] == _failing:
                raise OSError(errno.EIO, "Input/output error")
            return real(fd)
        monkeypatch.setattr(os, "fsync", eio_once)
        with pytest.raises(OSError, match="fsync failed.*not durable") as info:
            versions[1]["model"].save_pretrained(target)
        assert info.value.errno == errno.EIO and info.value.filename
        monkeypatch.setattr(os, "fsync", real)
        assert_loads_as_one_of(target, *versions)
        assert_foreign_intact(target)


SMALL_DISK = """
import sys, pathlib
from minit5 import T5Config, T5ForConditionalGeneration
from minit5.io.atomic_directory import STAGING
target = pathlib.Path(sys.argv[1])
small = T5ForConditionalGeneration(T5Config(**SMALL), seed=0)
small.save_pretrained(target)
(target / "spiece.model").write_bytes(b"tokenizer")
big = T5ForConditionalGeneration(T5Config(**{**SMALL, "vocab_size": 40_000}), seed=1)
try:
    big.save_pretrained(target)
    print("saved")
except OSError as e:
    print("OSError", e)
again = T5ForConditionalGeneration.from_pretrained(target).state_dict()
same = all(again[k].tobytes() == v.tobytes() for k, v in small.state_dict().items())
print("old intact" if same else "CHANGED", (target / "spiece.model").read_bytes(),
      (target / STAGING).exists())
small.save_pretrained(target)            # the mount point is the target: saving works there
print("resaved")
"""


def test_a_full_disk_and_a_mount_point_target(tmp_path):
    """ENOSPC on a 1 MB tmpfs whose root is the target; skipped where mounting is not allowed."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to mount a private tmpfs")
    mount = tmp_path / "volume"
    mount.mkdir()
    script = tmp_path / "disk.py"
    script.write_text(f"SMALL = {SMALL!r}\n" + textwrap.dedent(SMALL_DISK))
    shell = (f"mount -t tmpfs -o size=1m none {mount} || exit 97; "
             f"exec {sys.executable} {script} {mount}")
    result = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                             shell], capture_output=True, text=True, cwd=ROOT, timeout=120)
    if result.returncode == 97 or "unshare failed" in result.stderr \
            or "Operation not permitted" in result.stderr:
        pytest.skip(f"this machine does not allow a private tmpfs: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("OSError") and "No space left on device" in lines[0], lines
    assert lines[1] == "old intact b'tokenizer' False", lines
    assert lines[2] == "resaved"


def test_the_next_save_removes_a_killed_saves_staging(tmp_path, versions):
    target = tmp_path / "ckpt"
    versions[0]["model"].save_pretrained(target)
    (target / STAGING).mkdir()
    (target / STAGING / "model.safetensors").write_bytes(b"half of a file")
    assert files_of(target) == versions[0]["files"], "uncommitted staging must not be read"
    versions[1]["model"].save_pretrained(target)
    assert not (target / STAGING).exists()
    assert files_of(target) == versions[1]["files"]


@pytest.mark.skipif(os.name != "posix", reason="flock is POSIX")
def test_a_load_leaves_a_running_save_alone(tmp_path, versions):
    import fcntl
    target = tmp_path / "ckpt"
    versions[0]["model"].save_pretrained(target)
    (target / STAGING).mkdir()
    (target / STAGING / "model.safetensors").write_bytes(b"being written right now")
    fd = os.open(target, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)                 # as a save in progress holds it
        T5ForConditionalGeneration.from_pretrained(target)
        assert (target / STAGING).exists(), "a load tore down a running save's staging"
    finally:
        os.close(fd)                                   # the "save" dies: its lock goes
    assert assert_loads_as_one_of(target, *versions) == 0
