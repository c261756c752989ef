"""One file written atomically: whole or not at all, its temporary never left behind, errors
that name the file."""
import errno
import json

import pytest

from minit5.io import atomic_file
from minit5.io.atomic_file import write_atomic, write_json, write_text


def test_writes_and_replaces(tmp_path):
    path = tmp_path / "r.json"
    write_json(path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    write_text(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("old")

    def half(f):
        f.write(b"half")
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, half)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_a_full_disk_names_the_file_and_the_fix(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    real_fsync = atomic_file.os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomic_file.os, "fsync", full)
    with pytest.raises(OSError, match=r"could not write .*results\.json.*disk is full") as info:
        write_json(path, {"a": 1})
    monkeypatch.setattr(atomic_file.os, "fsync", real_fsync)
    assert info.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []


def test_a_value_that_is_not_json_leaves_no_file(tmp_path):
    with pytest.raises(TypeError):
        write_json(tmp_path / "r.json", {"a": object()})
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        write_text(tmp_path, "x")
