"""Corpus readers and the built-in offline corpus (standard-library docstrings, C4-cleaned)."""
import gzip
import json

import pytest

import minit5.data.corpus as corpus_module
from minit5.data.cleaning import CleaningReport, clean_pages
from minit5.data.corpus import (
    CorpusFormatError,
    builtin_corpus,
    corpus_stats,
    corpus_vocabulary,
    docstring_to_text,
    read_jsonl,
    read_txt,
)


@pytest.fixture(scope="module")
def corpus():
    report = CleaningReport()
    return builtin_corpus(report=report), report


# --- the built-in corpus ------------------------------------------------------------------------

def test_builtin_corpus_is_big_enough(corpus):
    pages, report = corpus
    stats = corpus_stats(pages)
    assert stats.pages >= 300 and stats.words >= 50_000, stats
    assert report.pages_out == len(pages) and report.pages_in > len(pages)
    assert "pages" in str(stats)


def test_builtin_corpus_is_clean(corpus):
    pages, _ = corpus
    again, report = clean_pages(pages)
    assert again == pages
    assert sum(report.pages_removed.values()) == 0


def test_builtin_corpus_is_deterministic_and_imports_nothing(corpus):
    # pages come from parsing source files with `ast`: no standard-library module is imported
    # (importing `antigravity` would open a web browser)
    import sys
    before = set(sys.modules)
    assert builtin_corpus() == corpus[0]
    assert set(sys.modules) - before == set()


GOOD_PAGE = "The first sentence is here.\nThe second sentence is here.\nThe third one is here too."


@pytest.fixture
def tiny_stdlib(monkeypatch):
    """Replace the standard-library pages by one small page, so cache tests are quick."""
    calls = []

    def fake_pages():
        calls.append(1)
        return iter([GOOD_PAGE, "too short"])
    monkeypatch.setattr(corpus_module, "stdlib_pages", fake_pages)
    return calls


def test_builtin_corpus_cache(tiny_stdlib, tmp_path):
    assert builtin_corpus(cache_dir=tmp_path) == [GOOD_PAGE]
    (cache_file,) = tmp_path.iterdir()
    assert json.loads(cache_file.read_text(encoding="utf-8"))["pages"] == [GOOD_PAGE]
    assert builtin_corpus(cache_dir=tmp_path) == [GOOD_PAGE]
    assert len(tiny_stdlib) == 1                                  # second call read the cache
    cache_file.write_text("{damaged", encoding="utf-8")
    assert builtin_corpus(cache_dir=tmp_path) == [GOOD_PAGE]      # a damaged cache is rebuilt
    assert len(tiny_stdlib) == 2


def test_builtin_corpus_min_pages(tiny_stdlib):
    assert builtin_corpus(min_pages=1) == [GOOD_PAGE]
    with pytest.raises(RuntimeError, match="fewer than min_pages=2"):
        builtin_corpus(min_pages=2)


def test_docstring_to_text_unwraps_prose_and_keeps_code_apart():
    doc = ("Return the thing\nthat was asked for.\n\n"
           "Args:\n  name: the name\n    of it.\n\n"
           ">>> f(1)\n2\n")
    assert docstring_to_text(doc).split("\n") == [
        "Return the thing that was asked for.", "Args:", "name: the name of it.",
        ">>> f(1)", "2"]


def test_corpus_vocabulary_orders_by_count():
    assert corpus_vocabulary(["b a b", "c b a 42"]) == ["b", "a", "c"]
    assert corpus_vocabulary(["b a b", "c b a"], min_count=2, max_words=1) == ["b"]


# --- readers ------------------------------------------------------------------------------------

def test_read_txt_splits_on_blank_lines(tmp_path):
    path = tmp_path / "docs.txt"
    path.write_text("first doc line one\nline two\n\n\n  \nsecond doc\n\nthird doc", "utf-8")
    assert list(read_txt(path)) == ["first doc line one\nline two", "second doc", "third doc"]


def test_read_jsonl_reads_the_field(tmp_path):
    path = tmp_path / "c4.json"
    rows = [{"text": "page one", "url": "u1"}, {"text": "page two", "url": "u2"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    assert list(read_jsonl(path)) == ["page one", "page two"]
    assert list(read_jsonl(path, field="url")) == ["u1", "u2"]


def test_readers_read_gzip(tmp_path):
    path = tmp_path / "c4.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"text": "zipped page"}) + "\n")
    assert list(read_jsonl(path)) == ["zipped page"]


def test_missing_file_fails_at_call_time(tmp_path):
    with pytest.raises(FileNotFoundError, match="read_txt: no file at"):
        read_txt(tmp_path / "nope.txt")
    with pytest.raises(FileNotFoundError, match="read_jsonl: no file at"):
        read_jsonl(tmp_path / "nope.jsonl")


@pytest.mark.parametrize("line, message", [
    ('{"text": "ok"', "not valid JSON"),
    ('["a list"]', "expected a JSON object"),
    ('{"body": "x"}', "no field 'text'"),
    ('{"text": 3}', "holds int"),
])
def test_read_jsonl_errors_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "fine"}\n\n' + line + "\n", encoding="utf-8")
    documents = read_jsonl(path)
    assert next(documents) == "fine"
    with pytest.raises(CorpusFormatError, match=message) as error:
        next(documents)
    assert f"{path}:3:" in str(error.value)


def test_read_txt_rejects_non_utf8(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("fine\n\ncaf\u00e9\n".encode("latin-1"))
    with pytest.raises(CorpusFormatError, match=r"latin1.txt:3: not UTF-8"):
        list(read_txt(path))
