"""Saving a checkpoint folder so that a crash at any instant leaves the old or the new one.

A checkpoint is several files (config.json and model.safetensors; a training checkpoint adds
optimizer.npz and trainer.json) that must change together. The target folder itself is never
renamed or deleted: it may be a mount point (a Docker or Kubernetes volume root, where rename
fails with EBUSY), and it may hold files minit5 did not write (the tokenizer's spiece.model, a
README, a run's other checkpoints), which are never touched. The protocol, for a target T:

  0. recover   finish or discard what a killed earlier save left in T (below).
  1. stage     write the new files into T/.minit5-staging/ (a short name inside T, so a long
               legal name for T stays legal; created with the process umask like any folder).
  2. sync      give each staged file the mode the umask gives new files, fsync it, then fsync
               the staging folder.
  3. commit    rename T/.minit5-staging to T/.minit5-commit, then fsync T. This one rename is
               the instant the new checkpoint wins: before it, T holds the old one; after it,
               the new one, even if the steps below never run.
  4. install   move each committed file over its name in T (os.replace, atomic per file),
               then fsync T.
  5. finish    remove the empty T/.minit5-commit, then fsync T.

Recovery (step 0, and on every load): a T/.minit5-staging left by a kill in steps 1-3 is
deleted, so the old checkpoint stands; a T/.minit5-commit left by a kill in steps 4-5 is rolled
forward (its files moved into place). Readers see the same thing without writing anything:
`checkpoint_file(T, name)` prefers a committed file that is not yet installed, so a load during
or after an interrupted install reads the new checkpoint whole, never old config with new
weights. (A program that does not know this protocol, such as transformers, can see that mix
only after a kill inside step 4 and before minit5 next saves or loads T.)

A save holds an advisory lock (flock) on T from step 0 to step 5, so two saves of one target
take turns, and a load only recovers a folder whose lock is free: it never tears down the
staging of a save that is still running. A load reads through `read_whole(T, read)`, which
never waits for a save: it notes which file each name resolves to (path, inode, size, time),
reads, and reads again if a save moved or replaced any of them meanwhile (the install step can
move the file a reader has just chosen), so a load racing a save returns one checkpoint whole.
Every fsync failure raises OSError naming the file: a save that reports success is on disk.
"""
from __future__ import annotations

import contextlib
import errno
import os
import pathlib
import shutil
import time
from typing import Callable, TypeVar

STAGING = ".minit5-staging"
COMMIT = ".minit5-commit"
T = TypeVar("T")


def checkpoint_file(directory, name: str) -> pathlib.Path:
    """The file `name` of the checkpoint in `directory`, honouring an interrupted install."""
    directory = pathlib.Path(directory)
    pending = directory / COMMIT / name
    return pending if pending.is_file() else directory / name


def recover(directory) -> None:
    """Discard an uncommitted save of `directory` and finish a committed one (steps 0 and 5)."""
    directory = pathlib.Path(directory)
    staging = directory / STAGING
    if staging.is_dir():
        shutil.rmtree(staging)
    commit = directory / COMMIT
    if commit.is_dir():
        _install(commit, directory)


def try_recover(directory) -> None:
    """`recover` for a reader: skipped while a save holds the folder's lock (that save is not
    dead) and where the folder is read-only; the view reads the right files either way."""
    try:
        with _lock(directory, wait=False) as held:
            if held:
                recover(directory)
    except OSError as e:
        if e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise


def read_whole(directory, read: Callable[[], T], tries: int = 50) -> T:
    """`read()`, a function that reads files of `directory` through `checkpoint_file`, run
    again until no save changed the folder while it ran, so what it returns comes from one
    checkpoint. A save can move the committed file a reader chose before the reader opens it
    (FileNotFoundError), or replace config.json between the reads of the config and of the
    weights; each such read is done again. An error that the folder's unchanged state
    explains (a file really missing or damaged) is raised at once. A dead save's leftovers are
    finished or discarded first (`try_recover`); a running save is never waited for."""
    directory = pathlib.Path(directory)
    try_recover(directory)
    for attempt in range(tries):
        before = _view(directory)
        try:
            value = read()
        except Exception:
            if _view(directory) == before:
                raise
        else:
            if _view(directory) == before:
                return value
        time.sleep(min(0.001 * 2 ** attempt, 0.1))
    raise OSError(errno.EAGAIN, f"{directory} changed during each of {tries} reads: another "
                                "process is saving to it again and again; load it when it has "
                                "stopped", str(directory))


def _view(directory: pathlib.Path) -> dict:
    """What a reader of `directory` would open, file by file: name -> (path, inode, size,
    mtime). Files are only ever moved or replaced, never changed in place, so an equal view
    before and after a read means nothing it read was moved or replaced meanwhile."""
    names = set()
    for folder in (directory, directory / COMMIT):
        try:
            names.update(entry.name for entry in os.scandir(folder) if entry.is_file())
        except (FileNotFoundError, NotADirectoryError):
            pass
    view = {}
    for name in sorted(names):
        path = checkpoint_file(directory, name)
        try:
            stat = path.stat()
        except FileNotFoundError:          # moved between the listing and the stat
            view[name] = None
            continue
        view[name] = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return view


@contextlib.contextmanager
def _lock(directory, wait: bool):
    """An advisory lock on the folder itself (flock), held by a save from start to end; the
    kernel drops it when the process dies. Yields whether it is held. Where flock is missing
    (Windows) or refused (some network file systems) it yields True: no lock, as before."""
    try:
        import fcntl
        fd = os.open(directory, os.O_RDONLY)
    except (ImportError, OSError):
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        except OSError:
            pass
        yield True
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_directory(path):
    """Yield an empty staging folder; when the block ends normally its files replace theirs in
    `path` (created if needed) by the protocol above. On an exception nothing in `path`
    changes and the staging folder is removed."""
    target = pathlib.Path(path)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"cannot save a checkpoint to {target}: it is a file; pass a "
                                 "folder (it will hold config.json and model.safetensors)")
    if not target.is_dir():
        target.mkdir(parents=True)
        fsync(target.parent)        # the new folder's name is part of what must be durable
    with _lock(target, wait=True):
        recover(target)
        staging = target / STAGING
        staging.mkdir()
        try:
            yield staging
            # Files get the mode any new file gets under the umask (the safetensors library
            # writes 0600 whatever the umask): mkdir applied the umask to the folder's 0777.
            file_mode = staging.stat().st_mode & 0o666
            for item in sorted(staging.iterdir()):
                os.chmod(item, file_mode)
                fsync(item)
            fsync(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        commit = target / COMMIT
        os.rename(staging, commit)
        fsync(target)
        _install(commit, target)


def _install(commit: pathlib.Path, target: pathlib.Path):
    """Steps 4 and 5: move the committed files into place, then drop the commit folder."""
    for item in sorted(commit.iterdir()):
        os.replace(item, target / item.name)
    fsync(target)
    commit.rmdir()
    fsync(target)


def fsync(path: pathlib.Path):
    """Flush one file or folder to the disk; an error is raised, naming the path."""
    is_dir = path.is_dir()
    if is_dir and not hasattr(os, "O_DIRECTORY"):
        return                      # Windows cannot open a folder to flush it; NTFS journals it
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if is_dir else 0))
    try:
        os.fsync(fd)
    except OSError as e:
        if is_dir and e.errno in (errno.EINVAL, errno.ENOTSUP):
            return                  # a file system that does not flush folders (some FUSE)
        raise OSError(e.errno, f"fsync failed ({e.strerror}): the disk did not confirm that "
                               f"{path} was written; the save is not durable. Check the disk "
                               "(dmesg) and save again", str(path)) from None
    finally:
        os.close(fd)
