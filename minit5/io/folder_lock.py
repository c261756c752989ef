"""One writer per run folder.

Two training runs started into one folder would both succeed: their log lines interleaved in
one log.jsonl and each overwriting the other's checkpoints. `hold_folder(path)` stops the
second at once: it takes an advisory lock (flock) on `path/.minit5-lock` for as long as the
block runs, and a process that finds it taken gets a `FolderInUse` error naming the holder's
pid. The kernel drops the lock when its holder exits, however it exits (SIGKILL and a power
cut included), so a lock left by a dead run never blocks the next one; the file stays.

The holder's pid is written into the lock file in place, not through `atomic_file`: the lock
belongs to the file's inode, which an atomic rename would replace. The pid is only a message.

A process may hold a folder again inside its own hold (a command holds its run folder around
the trainer, which holds it too): flock makes two open descriptors of one file conflict even
in one process, so each process keeps one per folder and counts. Where flock is missing
(Windows) or refused (some network file systems), and in a folder this user cannot write,
nothing is held, as `atomic_directory` does.
"""
from __future__ import annotations

import contextlib
import errno
import os

LOCK_FILE = ".minit5-lock"

_held: dict = {}       # real path of the folder -> [descriptor, depth, owning pid]


class FolderInUse(RuntimeError):
    """Another process holds the folder (`pid`, or None where it has not written it yet)."""

    def __init__(self, message: str, pid: int | None):
        super().__init__(message)
        self.pid = pid


@contextlib.contextmanager
def hold_folder(folder, what: str = "folder"):
    """Hold `folder` (which must exist) for this process until the block ends; `what` names
    it in the error ("--run folder"). Raises FolderInUse when another process holds it."""
    key = os.path.realpath(folder)
    entry = _held.get(key)
    if entry is not None and entry[2] == os.getpid():
        entry[1] += 1
        try:
            yield
        finally:
            entry[1] -= 1
        return
    fd = _acquire(folder, key, what)
    if fd is None:
        yield
        return
    _held[key] = [fd, 1, os.getpid()]
    try:
        yield
    finally:
        del _held[key]
        os.close(fd)                     # closing the descriptor drops the lock


def _acquire(folder, key: str, what: str) -> int | None:
    """The locked descriptor of the folder's lock file; None where no lock can be taken."""
    try:
        import fcntl
    except ImportError:
        return None
    path = os.path.join(key, LOCK_FILE)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return None                  # nothing can be written there anyway
        raise
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _holder(fd)
        os.close(fd)
        holder = f"process {pid}" if pid else "another process"
        raise FolderInUse(
            f"{what} {folder} is in use by {holder} (a minit5 run writing there): two runs in "
            "one folder would mix their logs and overwrite each other's checkpoints. Wait for "
            f"it to end{f' or stop it (kill {pid})' if pid else ''}, or choose another folder",
            pid) from None
    except OSError:
        os.close(fd)
        return None                      # flock refused (a network file system): no lock
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _holder(fd: int) -> int | None:
    """The pid the holder wrote into the lock file, None if there is none yet."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None
