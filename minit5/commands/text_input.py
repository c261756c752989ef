"""Text handed to a command: arguments and standard-input lines, checked to be UTF-8.

Python decodes command-line arguments, and standard input under a C/POSIX locale, with
errors="surrogateescape", so bytes that are not UTF-8 arrive as lone surrogates and would reach
SentencePiece as an opaque "Unable to cast" error. Standard input is read as bytes here and
decoded strictly; every text is checked, and a problem names "stdin, line N" or the argument.
"""
from __future__ import annotations

import sys

from minit5.data.tokenizer import check_encodable

HINT = "convert it to UTF-8 first (for example with `iconv -f latin1 -t utf-8`)"


def decode_line(raw: bytes, where: str) -> str:
    """One line of bytes as text without its line ending, or a ValueError naming `where`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{where}: not UTF-8 text (byte 0x{raw[e.start]:02x} at column "
                         f"{e.start + 1}); {HINT}") from None
    return text.rstrip("\n").rstrip("\r")


def stdin_lines(stdin=None) -> list:
    """Every line of standard input (or of `stdin`, a text or binary stream), checked."""
    stdin = sys.stdin if stdin is None else stdin
    stream = getattr(stdin, "buffer", stdin)          # the bytes under a text stream
    lines = []
    for number, line in enumerate(stream, start=1):
        where = f"stdin, line {number}"
        text = decode_line(line, where) if isinstance(line, bytes) else line.rstrip("\n")
        check_encodable(text, where)
        lines.append(text)
    return lines


def argument_texts(texts, what: str) -> list:
    """Command-line texts, each checked; `what` names them in errors ("prompt 2")."""
    for number, text in enumerate(texts, start=1):
        check_encodable(text, f"{what} {number}")
    return list(texts)
