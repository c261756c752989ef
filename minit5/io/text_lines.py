"""Reading a text file a line at a time: the one reader behind task files, corpora and the
tokenizer trainer, so each of them meets a bad file the same way.

`numbered_lines(path)` checks that `path` is a file now, and returns a generator of
(line number, text) that opens the file only when reading starts:

- Text is UTF-8, decoded strictly: a byte that is not is an error naming file:line and column.
- A UTF-8 byte-order mark at the very start is dropped. Windows editors write one; kept, it
  would be the first character of the first line, so a header row would not be recognised.
- A name ending in `.gz` is read through gzip. A file that is not gzip, one whose compressed
  data is damaged and one cut short (a download or a copy that stopped) are errors naming the
  file and the last line read whole.
- A line longer than `max_line_bytes` (default 8 MiB) is an error naming the line and the
  limit, read no further: a file without line breaks (a binary file, a one-line JSON array)
  would otherwise be read into memory whole as one "line".
- A text's line ending ("\\n" or "\\r\\n") is kept, as Python's own line iteration keeps it.

Errors are raised as `error` (a ValueError subclass the caller chooses, so a corpus reader
raises its own type); a missing file is a FileNotFoundError naming `reader`.
"""
from __future__ import annotations

import codecs
import gzip
import json
import os
import zlib
from typing import Iterator

MAX_LINE_BYTES = 8 << 20


def numbered_lines(path, reader: str = "read", error: type = ValueError,
                   max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, str]]:
    """Check `path` now (not at the first `next`) and return a generator of (line number,
    text). `reader` names the caller in a missing file's message."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{reader}: {path!r} is a folder, not a file; pass a file "
                                "(a folder of files is read by the corpus readers)")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{reader}: no file at {path!r}; check the path (relative paths "
                                f"start from {os.getcwd()!r})")
    return _lines(path, error, max_line_bytes)


def _lines(path: str, error: type, max_line_bytes: int) -> Iterator[tuple[int, str]]:
    compressed = path.endswith(".gz")
    number = 0
    with (gzip.open if compressed else open)(path, "rb") as f:
        while True:
            try:
                raw = f.readline(max_line_bytes + 1)
            except (gzip.BadGzipFile, EOFError, zlib.error) as e:
                raise error(_gzip_problem(path, e, number)) from None
            if not raw:
                return
            number += 1
            if len(raw) > max_line_bytes:
                raise error(f"{path}:{number}: the line is longer than {max_line_bytes:,} bytes "
                            "(the longest line minit5 reads); is it a text file with one "
                            "example or document a line? Split the line into shorter ones")
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise error(f"{path}:{number}: not UTF-8 text ({e.reason}, byte "
                            f"0x{raw[e.start]:02x} at column {e.start + 1}); re-encode the file "
                            "as UTF-8 (for example with `iconv -f latin1 -t utf-8`)") from None


def _gzip_problem(path: str, e: Exception, lines_read: int) -> str:
    """What is wrong with a .gz file, in words, and what to do about it."""
    where = f"after line {lines_read}" if lines_read else "before its first line"
    if isinstance(e, EOFError):
        return (f"{path}: the gzip file is cut short (it ends {where}, inside the compressed "
                "data); the download or copy stopped early: fetch the file again")
    if isinstance(e, gzip.BadGzipFile) and lines_read == 0 and "Not a gzipped file" in str(e):
        with open(path, "rb") as f:
            start = f.read(8)
        return (f"{path}: not a gzip file, though its name ends in .gz (it starts with "
                f"{start!r}); if it is plain text, rename it without .gz")
    return (f"{path}: the gzip data is damaged ({e}; {where}); fetch the file again")


class DuplicateKeyError(ValueError):
    """A JSON object that names one key twice (the `key` attribute)."""

    def __init__(self, key: str):
        super().__init__(f"the key {key!r} appears twice in one object")
        self.key = key


def _refuse_duplicates(pairs: list) -> dict:
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKeyError(key)
        seen[key] = value
    return seen


def loads_json(text: str):
    """`json.loads`, but an object that names a key twice is a DuplicateKeyError: plain JSON
    keeps the last value silently, so `{"target": "a", "target": "b"}` would train on "b"."""
    return json.loads(text, object_pairs_hook=_refuse_duplicates)
