"""Your own text-to-text task from a file: TSV or JSON lines, one (input, target) per line.

    TSV (`.tsv`, `.txt`): two tab-separated columns, input then target; an optional first
        row `input<TAB>target` (or `inputs<TAB>targets`) is a header and is skipped. No
        quoting: a tab always separates columns (the t5 library's `parse_tsv` reads TSV the
        same way), so an input cannot contain a tab.
    JSONL (`.jsonl`, `.json`): one object per line, `{"input": "...", "target": "..."}`;
        other fields are ignored.

Both may be gzipped (`.gz`). Blank lines are skipped. The file is read by the one reader of
text inputs (`minit5.io.text_lines`): UTF-8, a leading byte-order mark dropped (so a header
saved by a Windows editor is still a header), lines of at most 8 MiB; a file that is not UTF-8,
a damaged or cut-short `.gz` is a `CorpusFormatError` naming the file. A malformed line, a
missing column, a JSON key given twice or an empty file is a `TaskFileError` naming the file
and the line. How long an input the model then takes is the trainer's and the evaluator's
business (see `minit5 train` and `minit5 eval`). `holdout_split` keeps a
validation split apart (never trained on, inputs included); `file_task` makes a
`minit5.data.tasks.Task` of the training examples with a metric from `metrics.METRICS`.
"""
from __future__ import annotations

import json
import os
from typing import Sequence

import numpy as np

from minit5.data.corpus import open_numbered_lines
from minit5.data.metrics import get_metric
from minit5.data.tasks import Task
from minit5.io.text_lines import DuplicateKeyError, loads_json

Example = tuple[str, str]
# The longest input or target, in tokens, that training and evaluation take from a task file
# (T5's sequence length, §3.1.2). T5 has no position table, so nothing in the model refuses a
# longer one, but attention holds a (length x length) array per head: an input of 10^6 tokens
# would need terabytes.
MAX_TASK_TOKENS = 512
HEADERS = (("input", "target"), ("inputs", "targets"))
TSV_SUFFIXES = (".tsv", ".txt", ".tsv.gz", ".txt.gz")
JSONL_SUFFIXES = (".jsonl", ".json", ".jsonl.gz", ".json.gz")


class TaskFileError(ValueError):
    """A task file that cannot be read; the message names the file and the line."""


def _tsv_examples(path: str) -> list[Example]:
    examples = []
    for number, line in open_numbered_lines(path, "read_task_file"):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        columns = line.split("\t")
        if len(columns) != 2:
            raise TaskFileError(
                f"{path}:{number}: expected 2 tab-separated columns (input, target), found "
                f"{len(columns)}; separate input and target by one tab, and keep tabs out of "
                f"the text")
        if not examples and tuple(c.strip().lower() for c in columns) in HEADERS:
            continue                                      # the header row
        examples.append(_checked(columns[0], columns[1], path, number))
    return examples


def _jsonl_examples(path: str) -> list[Example]:
    examples = []
    for number, line in open_numbered_lines(path, "read_task_file"):
        if not line.strip():
            continue
        try:
            record = loads_json(line)
        except json.JSONDecodeError as err:
            raise TaskFileError(f"{path}:{number}: not valid JSON ({err.msg} at column "
                                f"{err.colno}); each line must be one object like "
                                f'{{"input": "...", "target": "..."}}') from None
        except DuplicateKeyError as err:
            raise TaskFileError(f"{path}:{number}: {err}; which one is meant is unclear: keep "
                                "one") from None
        if not isinstance(record, dict):
            raise TaskFileError(f"{path}:{number}: expected a JSON object with 'input' and "
                                f"'target', got {type(record).__name__}")
        for column in ("input", "target"):
            if column not in record:
                raise TaskFileError(f"{path}:{number}: no {column!r} field; the fields here are "
                                    f"{sorted(record)}")
            if not isinstance(record[column], str):
                raise TaskFileError(f"{path}:{number}: {column!r} holds "
                                    f"{type(record[column]).__name__}, not text")
        examples.append(_checked(record["input"], record["target"], path, number))
    return examples


def _checked(source: str, target: str, path: str, number: int) -> Example:
    if not target.strip():
        raise TaskFileError(f"{path}:{number}: the target is empty; every example needs a "
                            f"target to learn (an empty input is allowed)")
    return source, target


def read_task_file(path: str | os.PathLike) -> list[Example]:
    """All (input, target) pairs of a TSV or JSONL task file, in file order."""
    path = os.fspath(path)
    if path.endswith(TSV_SUFFIXES):
        examples = _tsv_examples(path)
    elif path.endswith(JSONL_SUFFIXES):
        examples = _jsonl_examples(path)
    else:
        raise TaskFileError(f"{path}: unknown task file type; name it .tsv (input<TAB>target "
                            f"per line) or .jsonl (one {{\"input\", \"target\"}} object per line)")
    if not examples:
        raise TaskFileError(f"{path}: no examples (the file is empty or has only a header)")
    return examples


def holdout_split(examples: Sequence[Example], fraction: float, seed: int
                  ) -> tuple[list[Example], list[Example]]:
    """(train, validation): a random `fraction` of the examples (at least one) for validation,
    drawn with `seed`; then every training example whose input is also a validation input is
    dropped, so the score measures unseen inputs."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"the validation fraction must be in (0, 1), got {fraction}")
    if len(examples) < 2:
        raise ValueError(f"{len(examples)} example: too few to hold out a validation split; "
                         f"add examples or give a separate --eval-file")
    order = np.random.default_rng([seed, 5]).permutation(len(examples))
    n_valid = min(len(examples) - 1, max(1, int(round(fraction * len(examples)))))
    validation = [examples[int(i)] for i in order[:n_valid]]
    return without_inputs(examples, validation, order[n_valid:]), validation


def without_inputs(examples: Sequence[Example], held_out: Sequence[Example],
                   indices=None) -> list[Example]:
    """`examples` (those at `indices`, in that order, if given) minus any whose input is one
    of `held_out`'s inputs. An empty result is a ValueError."""
    unseen = {source for source, _ in held_out}
    chosen = range(len(examples)) if indices is None else indices
    kept = [examples[int(i)] for i in chosen if examples[int(i)][0] not in unseen]
    if not kept:
        raise ValueError("every training example's input is also in the validation set; "
                         "nothing is left to train on")
    return kept


def file_task(name: str, examples: Sequence[Example], metric: str = "exact_match") -> Task:
    """A Task that draws uniformly from `examples`, scored by `metrics.get_metric(metric)`."""
    if not examples:
        raise ValueError(f"file_task {name!r}: no examples")
    examples = list(examples)
    score = get_metric(metric)

    def make_example(rng: np.random.Generator) -> Example:
        return examples[int(rng.integers(len(examples)))]

    return Task(name, "", make_example, score)
