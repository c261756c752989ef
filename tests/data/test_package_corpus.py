"""Docstring pages from any source files, and the package corpus (numpy + matplotlib docstrings,
C4-cleaned): the second domain of the Table 8 miniature."""
import sys

import pytest

from minit5.data.cleaning import CleaningReport, clean_pages
from minit5.data.corpus import (
    builtin_corpus,
    corpus_stats,
    docstring_pages,
    package_corpus,
    package_source_files,
    stdlib_pages,
    stdlib_source_files,
)

SENTENCES = ["This sentence is the first of the page.", "This sentence is the second of the page.",
             "This sentence is the third of the page."]
PROSE = "\n".join(SENTENCES)       # one paragraph of the docstring per line of the page
PARAGRAPHS = "\n\n".join(SENTENCES)
MODULE_SOURCE = f'''"""{PARAGRAPHS}"""


class Thing:
    """A class docstring."""

    def method(self):
        """A method docstring."""


def helper():
    """A function docstring."""
'''


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """An installed-looking package `fakedocs` with a tests and a testing folder to skip."""
    root = tmp_path / "fakedocs"
    for folder in ("", "sub", "tests", "testing", "sub/tests"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "__init__.py").write_text(MODULE_SOURCE, encoding="utf-8")
    (root / "sub" / "b.py").write_text('"""Second module."""\n', encoding="utf-8")
    (root / "sub" / "a.py").write_text('"""First module."""\n', encoding="utf-8")
    (root / "sub" / "notes.txt").write_text("not source\n", encoding="utf-8")
    for skipped in ("tests/test_x.py", "testing/util.py", "sub/tests/test_y.py"):
        (root / skipped).write_text('"""Skipped."""\n', encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return root


# --- docstring_pages ----------------------------------------------------------------------------

def test_docstring_pages_one_page_per_module_and_top_level_definition(tmp_path):
    good = tmp_path / "good.py"
    good.write_text(MODULE_SOURCE, encoding="utf-8")
    broken = tmp_path / "broken.py"
    broken.write_text("def (:\n", encoding="utf-8")
    pages = list(docstring_pages([str(broken), str(good)]))       # a file that does not parse
    assert pages == [PROSE, "A class docstring.\n\nA method docstring.", "A function docstring."]


def test_stdlib_pages_are_docstring_pages_of_the_stdlib_files():
    assert list(stdlib_pages()) == list(docstring_pages(stdlib_source_files()))


@pytest.fixture(scope="module")
def stdlib_corpus():
    report = CleaningReport()
    return builtin_corpus(report=report), report


@pytest.mark.skipif(sys.version_info[:3] != (3, 11, 7), reason="sizes recorded on CPython 3.11.7")
def test_builtin_corpus_size_is_the_recorded_one(stdlib_corpus):
    # recorded before stdlib_pages was rewritten on top of docstring_pages
    pages, report = stdlib_corpus
    stats = corpus_stats(pages)
    assert (stats.pages, stats.words, stats.chars) == (1128, 146_772, 904_293)
    assert report.pages_in == 3191


# --- package_source_files -----------------------------------------------------------------------

def test_package_source_files_skip_tests_and_sort_by_path(fake_package):
    files = package_source_files(["fakedocs"])
    relative = [str(f.relative_to(fake_package)).replace("\\", "/")
                for f in map(type(fake_package), files)]
    assert relative == ["__init__.py", "sub/a.py", "sub/b.py"]


def test_package_source_files_of_a_single_file_module(tmp_path, monkeypatch):
    (tmp_path / "lonemodule.py").write_text('"""Alone."""\n', encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert package_source_files(["lonemodule"]) == [str(tmp_path / "lonemodule.py")]


def test_missing_package_is_named():
    with pytest.raises(ModuleNotFoundError, match="no installed package named 'no_such_pkg_xyz'"
                       ) as error:
        package_source_files(["numpy", "no_such_pkg_xyz"])
    assert "pip install no_such_pkg_xyz" in str(error.value)


@pytest.mark.parametrize("packages, error, message", [
    ("numpy", TypeError, r"write \('numpy',\)"),
    (["numpy.linalg"], ValueError, "not a top-level package name"),
    (["sys"], ValueError, "has no Python source files"),            # built into the interpreter
])
def test_bad_package_names_are_explained(packages, error, message):
    with pytest.raises(error, match=message):
        package_source_files(packages)


# --- package_corpus -----------------------------------------------------------------------------

def test_package_corpus_cleans_the_fake_package(fake_package):
    report = CleaningReport()
    assert package_corpus(["fakedocs"], report=report) == [PROSE]
    assert report.pages_in == 5 and report.pages_out == 1   # 3 from __init__, a.py, b.py


def test_package_corpus_cache_follows_the_files(fake_package, tmp_path):
    cache = tmp_path / "cache"
    assert package_corpus(["fakedocs"], cache_dir=cache) == [PROSE]
    (cache_file,) = cache.iterdir()
    assert "fakedocs" in cache_file.name
    assert package_corpus(["fakedocs"], cache_dir=cache) == [PROSE]
    assert len(list(cache.iterdir())) == 1                         # read back, not rebuilt
    more = "\nThis sentence is the fourth of the page."
    source = MODULE_SOURCE.replace(PARAGRAPHS, PARAGRAPHS + "\n" + more)
    (fake_package / "__init__.py").write_text(source, encoding="utf-8")
    assert package_corpus(["fakedocs"], cache_dir=cache) == [PROSE + more]   # new fingerprint
    assert len(list(cache.iterdir())) == 2


@pytest.fixture(scope="module")
def numeric_corpus():
    before = set(sys.modules)
    report = CleaningReport()
    pages = package_corpus(report=report)
    return pages, report, set(sys.modules) - before


def test_package_corpus_is_big_clean_and_imports_nothing(numeric_corpus):
    pages, report, imported = numeric_corpus
    stats = corpus_stats(pages)
    assert stats.pages >= 300 and stats.words >= 50_000, stats
    assert report.pages_out == len(pages) and report.pages_in > len(pages)
    assert not any("{" in page for page in pages)
    # a second cleaning keeps every page (it may still trim a line: deduplication cuts repeated
    # sentences out of the middle of a line and does not put the rest through the line rules)
    again, report_again = clean_pages(pages)
    assert len(again) == len(pages) and sum(report_again.pages_removed.values()) == 0
    assert not any(name == "matplotlib" or name.startswith("matplotlib.") for name in imported)


def test_package_corpus_is_deterministic_and_another_domain(numeric_corpus, stdlib_corpus):
    pages, stdlib = numeric_corpus[0], stdlib_corpus[0]
    assert package_corpus() == pages
    shared = set(pages) & set(stdlib)    # code the packages copied from the stdlib, if any
    assert len(shared) < len(pages) // 100, shared
    assert sum("array" in page for page in pages) > 5 * sum("array" in page for page in stdlib)
