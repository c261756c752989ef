"""`minit5 train | generate | eval | grade | tokenizer | experiment`.

Each sub-command lives in `minit5/commands/<name>.py` with `add_parser(subparsers)` (which
sets `func=run` on its parser) and `run(args) -> int`. Commands import the heavy parts of the
library inside `run`, so `minit5 --help` is fast. The benchmarks against PyTorch are not a
command (they need torch and a checkout): run them with `make bench` (benchmarks/run.py).
"""
from __future__ import annotations

import argparse
import importlib
import sys

# Errors a user can cause (bad paths, settings or files, a full or failing disk), and those
# that bad input still raises from deeper down: one line on stderr, exit status 2.
USER_ERRORS = (OSError, ValueError, LookupError, TypeError, RuntimeError, ArithmeticError,
               MemoryError)

COMMANDS = {
    "train": "pre-train or fine-tune a T5 (minit5 train pretrain|finetune ...)",
    "eval": "evaluate a checkpoint on the synthetic tasks",
    "generate": "generate text from a checkpoint and a tokenizer",
    "grade": "grade the exercises (minit5 grade 4.2)",
    "tokenizer": "train or use a SentencePiece tokenizer with T5's conventions",
    "experiment": "run a miniature of one of the paper's tables (minit5 experiment --list)",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minit5", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        try:
            module = importlib.import_module(f"minit5.commands.{name}")
        except ImportError as e:  # a command whose optional dependency is missing
            p = sub.add_parser(name, help=f"{help_text} (unavailable: {e})")
            p.set_defaults(_unavailable=str(e))
            continue
        module.add_parser(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if getattr(args, "accepts_overrides", False):
        args.overrides = unknown              # --key=value settings, checked by the command
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command is None:
        parser.print_help()
        return 2
    if getattr(args, "_unavailable", None):
        print(f"minit5 {args.command} is unavailable: {args._unavailable}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as e:
        print(f"minit5 {args.command}: error: {one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"minit5 {args.command}: interrupted", file=sys.stderr)
        return 130


def one_line(error: BaseException) -> str:
    """The message of an error, without a KeyError's quotes, its lines joined."""
    if isinstance(error, KeyError) and error.args:
        text = str(error.args[0])
    elif isinstance(error, UnicodeError):
        text = f"{type(error).__name__}: {error}"
    else:
        text = str(error) or type(error).__name__
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


if __name__ == "__main__":
    sys.exit(main())
