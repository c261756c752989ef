"""Your own data: task files (TSV, JSONL) and corpus folders, with errors that name file and
line."""
import gzip
import json

import numpy as np
import pytest

from minit5.data.corpus import CorpusFormatError, corpus_files, read_corpus
from minit5.data.task_files import (
    TaskFileError,
    file_task,
    holdout_split,
    read_task_file,
    without_inputs,
)


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_tsv_with_and_without_header(tmp_path):
    plain = write(tmp_path / "t.tsv", "cola sentence: It rains.\tacceptable\n\nb\tc\n")
    assert read_task_file(plain) == [("cola sentence: It rains.", "acceptable"), ("b", "c")]
    headed = write(tmp_path / "h.tsv", "input\ttarget\nb\tc\n")
    assert read_task_file(headed) == [("b", "c")]
    also = write(tmp_path / "h2.tsv", "Inputs\tTargets\r\nb\tc\r\n")
    assert read_task_file(also) == [("b", "c")]
    # a later row that reads "input<TAB>target" is data, not a header
    assert read_task_file(write(tmp_path / "d.tsv", "x\ty\ninput\ttarget\n"))[1] == \
        ("input", "target")
    # quotes are text (no quoting, as t5's parse_tsv with use_quote_delim=False)
    assert read_task_file(write(tmp_path / "q.tsv", '"a\tb"\n')) == [('"a', 'b"')]


def test_jsonl_and_gzip(tmp_path):
    rows = [{"input": "translate English to German: Hi.", "target": "Hallo.", "id": 1},
            {"input": "", "target": "x"}]
    path = tmp_path / "t.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert read_task_file(path) == [("translate English to German: Hi.", "Hallo."), ("", "x")]


@pytest.mark.parametrize("name, text, message", [
    ("t.tsv", "a\tb\nonly one column\n", r"t.tsv:2: expected 2 tab-separated columns .* found 1"),
    ("t.tsv", "a\tb\tc\n", r"t.tsv:1: .*found 3"),
    ("t.tsv", "a\t \n", r"t.tsv:1: the target is empty"),
    ("t.tsv", "", r"t.tsv: no examples"),
    ("t.tsv", "input\ttarget\n\n", r"t.tsv: no examples"),
    ("t.jsonl", '{"input": "a", "target": "b"}\n{"input": "a", "targets": "b"}\n',
     r"t.jsonl:2: no 'target' field; the fields here are \['input', 'targets'\]"),
    ("t.jsonl", '{"input": "a", "target": 3}\n', r"t.jsonl:1: 'target' holds int"),
    ("t.jsonl", '{"input": "a",\n', r"t.jsonl:1: not valid JSON"),
    ("t.jsonl", '["a", "b"]\n', r"t.jsonl:1: expected a JSON object"),
    ("t.csv", "a,b\n", r"unknown task file type"),
])
def test_malformed_files_name_file_and_line(tmp_path, name, text, message):
    with pytest.raises(TaskFileError, match=message):
        read_task_file(write(tmp_path / name, text))


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file at"):
        read_task_file(tmp_path / "absent.tsv")


def test_not_utf8(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_bytes(b"a\tb\n\xff\tc\n")
    with pytest.raises(CorpusFormatError, match="t.tsv:2: not UTF-8"):
        read_task_file(path)


def test_holdout_split_keeps_validation_inputs_out_of_training():
    examples = [(f"in {i % 15}", f"out {i}") for i in range(30)]   # inputs repeat
    train, valid = holdout_split(examples, 0.2, seed=0)
    assert len(valid) == 6
    assert not {s for s, _ in train} & {s for s, _ in valid}
    assert len(train) + len(valid) < 30            # duplicates of validation inputs were dropped
    assert holdout_split(examples, 0.2, seed=0) == (train, valid)     # repeatable
    assert holdout_split(examples, 0.2, seed=1) != (train, valid)
    with pytest.raises(ValueError, match="too few"):
        holdout_split(examples[:1], 0.5, 0)
    with pytest.raises(ValueError, match="fraction"):
        holdout_split(examples, 1.0, 0)
    with pytest.raises(ValueError, match="nothing is left"):
        without_inputs([("a", "b")], [("a", "c")])


def test_file_task_draws_from_its_examples_and_scores_with_the_metric():
    task = file_task("mine", [("a", "1"), ("b", "2")], "accuracy")
    drawn = task.make_examples(50, np.random.default_rng(0))
    assert set(drawn) == {("a", "1"), ("b", "2")}
    assert task.metric(["1", "3"], ["1", "2"]) == {"accuracy": 0.5}
    with pytest.raises(KeyError, match="unknown metric"):
        file_task("mine", [("a", "1")], "nope")


def test_corpus_folder_streams_txt_jsonl_and_c4_shards(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "a.txt", "First page line one.\nLine two.\n\nSecond page.\n")
    c4 = [{"text": "A C4 page.\nIts second line.", "timestamp": "2019-04-25T12:57:54Z",
           "url": "https://example.com/a"}]
    with gzip.open(tmp_path / "sub" / "c4-train.00000-of-01024.json.gz", "wt") as f:
        f.write(json.dumps(c4[0]) + "\n")
    write(tmp_path / "b.jsonl", json.dumps({"text": "JSON page."}) + "\n")
    write(tmp_path / "notes.md", "not read")
    files = corpus_files(tmp_path)
    assert [p.rsplit("/", 1)[-1] for p in files] == ["a.txt", "b.jsonl",
                                                    "c4-train.00000-of-01024.json.gz"]
    documents = read_corpus(tmp_path)
    assert next(documents) == "First page line one.\nLine two."      # a generator: streamed
    assert list(documents) == ["Second page.", "JSON page.", "A C4 page.\nIts second line."]


def test_corpus_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        corpus_files(tmp_path / "nothing")
    with pytest.raises(CorpusFormatError, match="no .txt, .jsonl or .json.gz"):
        corpus_files(tmp_path)
    write(tmp_path / "empty.txt", "\n\n")
    with pytest.raises(CorpusFormatError, match="no documents"):
        list(read_corpus(tmp_path))
    write(tmp_path / "bad.jsonl", '{"body": "x"}\n')
    with pytest.raises(CorpusFormatError, match="bad.jsonl:1: no field 'text'"):
        list(read_corpus(tmp_path / "bad.jsonl"))
    with pytest.raises(CorpusFormatError, match="not a corpus file"):
        corpus_files(write(tmp_path / "x.csv", "a"))
