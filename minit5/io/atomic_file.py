"""Writing one file so that a reader, a crash or a full disk never sees half of it.

Every file minit5 writes alone (results, settings, plots, logs, corpus caches) goes through
`write_atomic`: the bytes go to a temporary file beside the target (same folder, so the rename
below stays on one file system), are flushed to the disk, and only then is the temporary renamed
over the target (`os.replace`, atomic). A reader sees the old file or the new one, whole. When
anything fails (a full disk, a Ctrl-C, an error in the caller's writer) the temporary is removed
and the target is left as it was; the error names the target and says what to do.

The temporary is `.NAME.PID.tmp`: hidden, and one per process, so two processes writing the same
target never write into each other's temporary (the last rename wins, whole).

A folder of files that must change together (a checkpoint) needs more than this: see
`minit5.io.atomic_directory`.
"""
from __future__ import annotations

import errno
import json
import os
import pathlib
from typing import IO, Callable

from minit5.io.atomic_directory import fsync


def temporary_path(path: pathlib.Path) -> pathlib.Path:
    """Where `write_atomic` stages `path` in this process."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_atomic(path, write: Callable[[IO[bytes]], None]) -> pathlib.Path:
    """Call `write(f)` on a binary file staged beside `path`, then put it at `path` atomically.

    On any exception the staged file is removed, `path` is unchanged, and the exception goes on;
    an OSError (full disk, no permission) is raised again naming `path` and the fix."""
    path = pathlib.Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a folder; pass a file name")
    staged = temporary_path(path)
    try:
        with open(staged, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(staged, path)
    except BaseException as e:
        staged.unlink(missing_ok=True)
        if isinstance(e, OSError) and not getattr(e, "minit5_path", None):
            raise _named(e, path) from e
        raise
    try:
        fsync(path.parent)          # the rename itself is durable once the folder is flushed
    except OSError:
        pass                        # the file is in place and whole; only durability is unsure
    return path


def _named(error: OSError, path: pathlib.Path) -> OSError:
    """The same OSError, its message naming the file and saying what to do about it."""
    if error.errno == errno.ENOSPC:
        advice = "the disk is full: free some space (df -h shows it) and run again"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        advice = "no permission to write there: choose another folder or fix its permissions"
    else:
        advice = "the file was left as it was"
    named = OSError(error.errno, f"could not write {path}: {error.strerror or error}; {advice}",
                    str(path))
    named.minit5_path = str(path)
    return named


def write_bytes(path, data: bytes) -> pathlib.Path:
    """Write `data` to `path` atomically."""
    return write_atomic(path, lambda f: f.write(data))


def write_text(path, text: str) -> pathlib.Path:
    """Write `text` to `path` atomically, as UTF-8."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path, value, indent: int | None = 1) -> pathlib.Path:
    """Write `value` as JSON (and a final newline) to `path` atomically. The text is made
    before the file is opened, so a value that cannot be written as JSON leaves no file."""
    return write_text(path, json.dumps(value, indent=indent) + "\n")
