"""Corpora: streaming readers for text and JSON-lines files, and a built-in offline corpus.

C4 itself (paper §2.2) is hundreds of gigabytes; the book needs something it can build anywhere,
offline, in seconds. `builtin_corpus` makes one from the English docstrings of the Python standard
library that is running this code: the source files are parsed with `ast` (never imported, so no
module runs), the docstrings are laid out as web-like pages, and the pages go through the same C4
cleaning rules (`minit5.data.cleaning`) that the paper applies to Common Crawl.
`package_corpus` does the same for installed packages (numpy and matplotlib by default): a second
domain for §3.4.1's comparison of pre-training data sets. `docstring_pages` builds the pages of
both.

Readers (`read_txt`, `read_jsonl`) stream documents one at a time, so a large file never has to
fit in memory; both read `.gz` files as well (C4's released shards are `*.json.gz`, one JSON
object `{"text", "timestamp", "url"}` per line). `read_corpus` streams a whole folder of them.
"""
from __future__ import annotations

import ast
import collections
import hashlib
import importlib.util
import json
import os
import re
import sys
import sysconfig
import warnings
from dataclasses import dataclass
from typing import Iterator

from minit5.data.cleaning import CleaningReport, clean_corpus
from minit5.io.atomic_file import write_json
from minit5.io.text_lines import DuplicateKeyError, loads_json, numbered_lines

# Bump when the way pages are built or cleaned changes, so old caches are not reused.
CORPUS_VERSION = 2

# File names `read_corpus` reads, and the reader for each (C4's shards end in .json.gz).
TEXT_SUFFIXES = (".txt", ".txt.gz")
JSON_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz")

# Folders of the standard library that are tests, demos, GUIs or vendored code, not docs.
_SKIP_DIRS = frozenset({"site-packages", "dist-packages", "test", "tests", "idlelib", "tkinter",
                        "turtledemo", "lib2to3", "ensurepip", "__pycache__"})
# Folders of an installed package that hold its tests rather than its documentation.
_PACKAGE_SKIP_DIRS = frozenset({"test", "tests", "testing", "__pycache__"})


class CorpusFormatError(ValueError):
    """A corpus file that cannot be read as the format asked for; the message names the file
    and the line."""


# --- readers ----------------------------------------------------------------------------------

def open_numbered_lines(path: str | os.PathLike, reader: str) -> Iterator[tuple[int, str]]:
    """Check `path` now (not at the first `next`) and return a generator of (line number, text):
    `minit5.io.text_lines.numbered_lines`, the one reader of text inputs (strict UTF-8, a
    byte-order mark dropped, .gz read through gzip, a line-length limit), its problems raised
    as CorpusFormatError naming the file and the line."""
    return numbered_lines(path, reader, error=CorpusFormatError)


def read_txt(path: str | os.PathLike) -> Iterator[str]:
    """Stream the documents of a plain-text file.

    A document is a run of non-blank lines; one or more blank lines separate documents. (One
    document per line would cut every page into one-line documents, and the C4 page rules, like
    "at least 3 sentences", need whole pages.) For a file with one document per line, put a blank
    line between them. Lines inside a document keep their line breaks.
    """
    numbered = open_numbered_lines(path, "read_txt")

    def documents() -> Iterator[str]:
        block: list[str] = []
        for _, line in numbered:
            line = line.rstrip("\r\n")
            if line.strip():
                block.append(line)
            elif block:
                yield "\n".join(block)
                block = []
        if block:
            yield "\n".join(block)
    return documents()


def read_jsonl(path: str | os.PathLike, field: str = "text") -> Iterator[str]:
    """Stream `record[field]` from a JSON-lines file: one JSON object per line, as C4's
    `{"text": ..., "url": ..., "timestamp": ...}`. Blank lines are skipped."""
    numbered = open_numbered_lines(path, "read_jsonl")
    name = os.fspath(path)

    def documents() -> Iterator[str]:
        for number, line in numbered:
            if not line.strip():
                continue
            try:
                record = loads_json(line)
            except json.JSONDecodeError as err:
                raise CorpusFormatError(
                    f"{name}:{number}: not valid JSON ({err.msg} at column {err.colno}); "
                    f"each line must be one JSON object") from None
            except DuplicateKeyError as err:
                raise CorpusFormatError(f"{name}:{number}: {err}; which one is meant is "
                                        "unclear: keep one") from None
            if not isinstance(record, dict):
                raise CorpusFormatError(f"{name}:{number}: expected a JSON object such as "
                                        f'{{"{field}": "..."}}, got {type(record).__name__}')
            if field not in record:
                raise CorpusFormatError(f"{name}:{number}: no field {field!r}; the fields here are "
                                        f"{sorted(record)}; pass field=... to choose one")
            value = record[field]
            if not isinstance(value, str):
                raise CorpusFormatError(f"{name}:{number}: field {field!r} holds "
                                        f"{type(value).__name__}, not text")
            yield value
    return documents()


def corpus_files(path: str | os.PathLike) -> list[str]:
    """The files `read_corpus` reads: `path` itself, or the .txt / .jsonl / .json(.gz) files of
    a folder and its subfolders, sorted by path (other files are skipped)."""
    path = os.fspath(path)
    if os.path.isfile(path):
        if not path.endswith(TEXT_SUFFIXES + JSON_SUFFIXES):
            raise CorpusFormatError(f"{path}: not a corpus file; use .txt (documents separated "
                                    f"by blank lines), .jsonl or .json.gz (one JSON object with "
                                    f"a 'text' field per line), optionally gzipped")
        return [path]
    if not os.path.isdir(path):
        raise FileNotFoundError(f"corpus {path!r} does not exist; pass a .txt / .jsonl / "
                                f".json.gz file or a folder of them")
    found = []
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        found += [os.path.join(folder, name) for name in files
                  if name.endswith(TEXT_SUFFIXES + JSON_SUFFIXES)]
    if not found:
        raise CorpusFormatError(f"{path}: the folder has no .txt, .jsonl or .json.gz files")
    return sorted(found)


def read_corpus(path: str | os.PathLike, field: str = "text") -> Iterator[str]:
    """Stream the documents of a corpus file or folder (`corpus_files`), one at a time, in file
    order: plain text by `read_txt`, JSON lines (C4's `{"text", "timestamp", "url"}` shards
    included) by `read_jsonl` with `field`. The files are listed now; each is opened only
    when the reading reaches it. A corpus with no documents at all is a CorpusFormatError."""
    files = corpus_files(path)

    def documents() -> Iterator[str]:
        count = 0
        for name in files:
            reader = read_txt if name.endswith(TEXT_SUFFIXES) else (
                lambda p: read_jsonl(p, field))
            for document in reader(name):
                count += 1
                yield document
        if count == 0:
            raise CorpusFormatError(f"{os.fspath(path)}: no documents in {len(files)} file(s); "
                                    f"the corpus is empty")
    return documents()


# --- the built-in corpus: docstrings of the standard library -----------------------------------

def _python_files(root: str, skip_dirs: frozenset[str]) -> list[str]:
    """The `.py` files under `root`, leaving out folders named in `skip_dirs` (and hidden ones),
    sorted by their path relative to `root` so the order is the same on every machine."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs
                         if d not in skip_dirs and not d.startswith((".", "config-")))
        for name in sorted(files):
            if name.endswith(".py"):
                found.append(os.path.join(folder, name))
    return sorted(found, key=lambda p: os.path.relpath(p, root).replace(os.sep, "/"))


def stdlib_source_files() -> list[str]:
    """The standard library's `.py` files (tests, demos, GUI code and site-packages left out),
    sorted by their path relative to the library folder so the order is the same everywhere."""
    return _python_files(sysconfig.get_paths()["stdlib"], _SKIP_DIRS)


def package_source_files(packages: tuple[str, ...] | list[str]) -> list[str]:
    """The `.py` files of installed packages, package by package in the order given, each sorted
    by its path inside the package; `tests` / `testing` folders are left out, as for the stdlib.

    A package is found from its own folder (`importlib.util.find_spec(name)`), which reads the
    import path but runs none of the package's code. Only top-level names are accepted: finding
    "numpy.linalg" would import numpy first.
    """
    if isinstance(packages, str):
        raise TypeError(f"package_source_files takes a list of package names, got the string "
                        f"{packages!r}; write ({packages!r},)")
    found: list[str] = []
    for name in packages:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"package_source_files: {name!r} is not a top-level package name; "
                             f"pass names such as 'numpy' (no dots: finding a subpackage would "
                             f"import its parent)")
        spec = importlib.util.find_spec(name)
        if spec is None:
            raise ModuleNotFoundError(f"package_source_files: no installed package named "
                                      f"{name!r}; install it (pip install {name}) or leave it "
                                      f"out of packages", name=name)
        if spec.submodule_search_locations:             # a package: walk its folder(s)
            for root in spec.submodule_search_locations:
                found += _python_files(root, _PACKAGE_SKIP_DIRS)
        elif spec.origin and spec.origin.endswith(".py"):  # a single-file module
            found.append(spec.origin)
        else:
            raise ValueError(f"package_source_files: {name!r} has no Python source files "
                             f"(it is {spec.origin!r}); choose a package written in Python")
    return found


_BULLET = re.compile(r"(>>>|\.\.\.|[-*+] )")


def _logical_lines(paragraph: list[str]) -> list[str]:
    """Undo a paragraph's line wrapping: wrapped prose becomes one line, as it would on a web
    page. A new line starts at a doctest prompt or a bullet, after a doctest line, after a
    dedent, or at an indented block under a line ending in ':'; other lines continue the one
    before."""
    out: list[str] = []
    previous_indent, previous_doctest = 0, False
    for raw in paragraph:
        text = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        starts_new = (not out or previous_doctest or _BULLET.match(text) is not None
                      or indent < previous_indent
                      or (indent > previous_indent and out[-1].endswith(":")))
        if starts_new:
            out.append(text)
        else:
            out[-1] = f"{out[-1]} {text}"
        previous_indent, previous_doctest = indent, text.startswith((">>>", "..."))
    return out


def docstring_to_text(doc: str) -> str:
    """Lay a (cleaned) docstring out as page text: one line per paragraph or list item."""
    lines: list[str] = []
    for paragraph in re.split(r"\n[ \t]*\n", doc):
        raw = [line for line in paragraph.split("\n") if line.strip()]
        if raw:
            lines.extend(_logical_lines(raw))
    return "\n".join(lines)


def _docstrings(node: ast.AST) -> Iterator[str]:
    """The docstring of `node` and of every class and function inside it, in source order."""
    doc = ast.get_docstring(node, clean=True)
    if doc:
        yield doc
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _docstrings(child)


def docstring_pages(files: list[str]) -> Iterator[str]:
    """Raw (uncleaned) pages from the docstrings of the Python source `files`, in file order.

    One page per module docstring, and one per top-level class or function (its own docstring
    followed by those of its methods and nested definitions). The files are parsed with `ast`,
    never imported, so no module runs; files that do not parse with this Python are skipped.
    """
    for path in files:
        try:
            with open(path, "rb") as f:
                source = f.read()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. SyntaxWarning for odd escapes
                tree = ast.parse(source, filename=path)
        except (SyntaxError, ValueError, UnicodeDecodeError, OSError):
            continue
        module_doc = ast.get_docstring(tree, clean=True)
        if module_doc:
            yield docstring_to_text(module_doc)
        for node in tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                docs = [docstring_to_text(d) for d in _docstrings(node)]
                if docs:
                    yield "\n\n".join(docs)


def stdlib_pages() -> Iterator[str]:
    """Raw (uncleaned) pages from the standard library's docstrings: `docstring_pages` over
    `stdlib_source_files()`."""
    return docstring_pages(stdlib_source_files())


def _cache_path(cache_dir: str | os.PathLike, stem: str) -> str:
    version = ".".join(str(v) for v in sys.version_info[:3])
    return os.path.join(os.fspath(cache_dir), f"{stem}_py{version}_v{CORPUS_VERSION}.json")


def _read_cache(path: str) -> list[str] | None:
    """The cached pages, or None where there is no cache file; a damaged one (cut short, hand
    edited) is noted on stderr by name and built again."""
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            pages = json.load(f)["pages"]
        if isinstance(pages, list) and all(isinstance(p, str) for p in pages):
            return pages
        problem = "its pages are not a list of texts"
    except (OSError, ValueError, KeyError, TypeError) as e:
        problem = f"{type(e).__name__}: {e}"
    print(f"note: the corpus cache {path} is damaged ({problem}); building it again",
          file=sys.stderr)
    return None


def _write_cache(path: str, pages: list[str]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json(path, {"version": CORPUS_VERSION, "python": sys.version, "pages": pages},
               indent=None)


def builtin_corpus(min_pages: int | None = None, cache_dir: str | os.PathLike | None = None,
                   report: CleaningReport | None = None) -> list[str]:
    """An offline English corpus: the standard library's docstrings, cleaned with the C4 rules.

    The same Python gives the same pages in the same order. On CPython 3.11.7 it is 1,128 pages,
    146,772 words and 904,293 characters (`corpus_stats` measures it), kept from 3,191 raw pages;
    building takes 2-3 seconds, almost all of it `ast.parse`, and a cache read 0.01 s.

    min_pages: raise if the corpus comes out smaller (an unusual Python with few docstrings).
    cache_dir: a folder to keep the pages in as JSON; later calls read them from there.
    report: a `CleaningReport` to receive the cleaning counts (only filled when building).
    """
    path = _cache_path(cache_dir, "builtin_corpus") if cache_dir is not None else None
    pages = _read_cache(path) if path is not None else None
    if pages is None:
        pages = list(clean_corpus(stdlib_pages(), report=report))
        if path is not None:
            _write_cache(path, pages)
    if min_pages is not None and len(pages) < min_pages:
        raise RuntimeError(f"builtin_corpus has {len(pages)} pages, fewer than min_pages="
                           f"{min_pages}; lower min_pages or read your own text with read_txt / "
                           f"read_jsonl")
    return pages


def package_corpus(packages: tuple[str, ...] | list[str] = ("numpy", "matplotlib"),
                   cache_dir: str | os.PathLike | None = None,
                   report: CleaningReport | None = None) -> list[str]:
    """Another domain, built offline: the docstrings of installed packages, cleaned with the C4
    rules exactly as `builtin_corpus` cleans the standard library's.

    The default, numpy and matplotlib (both installed with minit5), is text about numerical
    computing and plotting, where `builtin_corpus` is about a general-purpose library: the
    stand-in for §3.4.1's question of what a pre-training corpus's domain does. The pages
    depend on the installed versions; with numpy 2.4.6 and matplotlib 3.11.2 on CPython 3.11.7
    it is 1,242 pages, 154,303 words and 968,560 characters, kept from 2,483 raw pages
    (371 source files); building takes about 4 seconds, a cache read well under one. One page
    is also in `builtin_corpus` (numpy's `_utils/_inspect.py` copies a stdlib docstring).

    packages: top-level package names (`package_source_files` finds their files).
    cache_dir: a folder to keep the pages in as JSON; the file name carries a fingerprint of the
        source files (paths and sizes), so a changed installation builds afresh.
    report: a `CleaningReport` to receive the cleaning counts (only filled when building).
    """
    files = package_source_files(packages)
    path = None
    if cache_dir is not None:
        listing = "\n".join(f"{name}\t{os.path.getsize(name)}" for name in files)
        fingerprint = hashlib.sha1(listing.encode("utf-8")).hexdigest()[:12]
        path = _cache_path(cache_dir, f"package_corpus_{'+'.join(packages)}_{fingerprint}")
    pages = _read_cache(path) if path is not None else None
    if pages is None:
        pages = list(clean_corpus(docstring_pages(files), report=report))
        if path is not None:
            _write_cache(path, pages)
    return pages


@dataclass(frozen=True)
class CorpusStats:
    """Size of a corpus: pages, whitespace-separated words, characters."""
    pages: int
    words: int
    chars: int

    def __str__(self) -> str:
        return f"{self.pages:,} pages, {self.words:,} words, {self.chars:,} characters"


def corpus_stats(pages: list[str]) -> CorpusStats:
    """Count the pages, words and characters of `pages`."""
    return CorpusStats(pages=len(pages), words=sum(len(p.split()) for p in pages),
                       chars=sum(len(p) for p in pages))


def lower_words(text: str) -> list[str]:
    """The words of `text` as this module counts them: lower-cased runs of the letters a-z."""
    return re.findall(r"[a-z]+", text.lower())


def corpus_vocabulary(pages: list[str], min_count: int = 1,
                      max_words: int | None = None) -> list[str]:
    """Lower-case alphabetic words of `pages` (`lower_words`), most frequent first (ties
    alphabetical); a word list for the synthetic tasks in `minit5.data.tasks`."""
    counts = collections.Counter(w for p in pages for w in lower_words(p))
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return words if max_words is None else words[:max_words]
