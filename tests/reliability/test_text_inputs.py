"""Task files, corpora and the tokenizer trainer read text through one reader
(minit5.io.text_lines): a byte-order mark, a damaged or cut-short gzip file, a file that only
claims to be gzip, an endless line and a JSON key given twice each get an error naming the
file (or are handled), never a traceback or a silently wrong example."""
import codecs
import gzip
import json

import pytest

from minit5.data import corpus
from minit5.data.corpus import CorpusFormatError, read_corpus, read_jsonl
from minit5.data.task_files import TaskFileError, read_task_file


def test_a_byte_order_mark_does_not_hide_the_header(tmp_path):
    path = tmp_path / "task.tsv"
    path.write_bytes(codecs.BOM_UTF8 + "input\ttarget\nhello\tworld\n".encode())
    assert read_task_file(path) == [("hello", "world")]


def test_a_byte_order_mark_is_not_part_of_the_first_json_key(tmp_path):
    path = tmp_path / "task.jsonl"
    path.write_bytes(codecs.BOM_UTF8 + b'{"input": "a", "target": "b"}\n')
    assert read_task_file(path) == [("a", "b")]


def _cut_gzip(path, lines):
    data = gzip.compress("".join(lines).encode())
    path.write_bytes(data[:len(data) // 2])            # a download that stopped half-way


def test_a_cut_short_gzip_task_file_is_named(tmp_path):
    path = tmp_path / "task.jsonl.gz"
    _cut_gzip(path, [json.dumps({"input": f"in {i}", "target": f"out {i}"}) + "\n"
                     for i in range(2000)])
    with pytest.raises(CorpusFormatError, match=r"task.jsonl.gz: the gzip file is cut short"):
        read_task_file(path)


def test_a_cut_short_shard_in_a_corpus_folder_is_named(tmp_path):
    (tmp_path / "c4").mkdir()
    _cut_gzip(tmp_path / "c4" / "c4-train.00000-of-01024.json.gz",
              [json.dumps({"text": f"document number {i} of the shard."}) + "\n"
               for i in range(2000)])
    with pytest.raises(CorpusFormatError, match=r"00000-of-01024.json.gz: the gzip file is "
                                                r"cut short \(it ends after line \d+"):
        list(read_corpus(tmp_path / "c4"))


def test_a_dot_gz_that_is_not_gzip_is_named(tmp_path):
    path = tmp_path / "docs.txt.gz"
    path.write_text("Clearly plain text.\n")
    with pytest.raises(CorpusFormatError, match=r"docs.txt.gz: not a gzip file.*b'Clearly "
                                                r".*rename it without .gz"):
        list(read_corpus(path))


def test_damaged_gzip_data_is_named(tmp_path):
    data = bytearray(gzip.compress(b"some text to compress, a line\n" * 200))
    data[20:40] = b"\xff" * 20                         # a bad disk sector in the middle
    path = tmp_path / "docs.txt.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(CorpusFormatError, match=r"docs.txt.gz: the gzip data is damaged"):
        list(read_corpus(path))


def test_a_line_past_the_limit_is_refused_by_number(tmp_path):
    from minit5.io.text_lines import numbered_lines
    path = tmp_path / "t.tsv"
    path.write_bytes(b"a\tb\n" + b"x" * 100 + b"\tlong\n")
    lines = numbered_lines(path, max_line_bytes=50)
    assert next(lines) == (1, "a\tb\n")
    with pytest.raises(ValueError, match=r"t.tsv:2: the line is longer than 50 bytes"):
        next(lines)


def test_a_ten_megabyte_task_line_is_refused_not_trained_on(tmp_path):
    path = tmp_path / "big.tsv"
    with open(path, "wb") as f:
        f.write(b"question\tanswer\n")
        f.write(b"word " * 2_000_000 + b"\tanswer\n")   # 10 MB, one line
    with pytest.raises(CorpusFormatError, match=r"big.tsv:2: the line is longer than "
                                                r"8,388,608 bytes"):
        read_task_file(path)


def test_a_json_key_given_twice_is_refused(tmp_path):
    task = tmp_path / "task.jsonl"
    task.write_text('{"input": "q", "target": "a", "target": "b"}\n')
    with pytest.raises(TaskFileError, match=r"task.jsonl:1: the key 'target' appears twice"):
        read_task_file(task)
    shard = tmp_path / "c4.jsonl"
    shard.write_text('{"text": "one"}\n{"text": "two", "text": "three"}\n')
    with pytest.raises(CorpusFormatError, match=r"c4.jsonl:2: the key 'text' appears twice"):
        list(read_jsonl(shard))


def test_a_damaged_corpus_cache_is_rebuilt_with_a_note_naming_it(tmp_path, monkeypatch,
                                                                   capsys):
    monkeypatch.setattr(corpus, "stdlib_pages", lambda: iter(["unused"]))
    monkeypatch.setattr(corpus, "clean_corpus", lambda pages, report=None: ["a page"])
    path = corpus._cache_path(tmp_path, "builtin_corpus")
    with open(path, "w") as f:
        f.write('{"version": 2, "pages": ["cut sho')     # a write that stopped half-way
    assert corpus.builtin_corpus(cache_dir=tmp_path) == ["a page"]
    err = capsys.readouterr().err
    assert f"the corpus cache {path} is damaged" in err and "building it again" in err
    assert json.loads(open(path).read())["pages"] == ["a page"]
