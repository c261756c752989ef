"""C4-style cleaning of web text (paper §2.2, "The Colossal Clean Crawled Corpus").

The paper builds C4 by taking raw Common Crawl text and applying a short list of heuristics. The
reference implementation is `tensorflow_datasets/text/c4_utils.py`; this module follows it rule by
rule, one small function per rule, so each can be read and tested on its own.

First, Wikipedia-style citation markers are removed from every line: `[1]`, `[23]`, `[]`,
`[edit]`, `[citation needed]` (the paper lists this rule; the reference's `_CITATION_REGEX`).

Line rules (a line that breaks one is dropped, the rest of the page stays):
  * a word longer than 1,000 characters (the reference's `_MAX_WORD_LENGTH`; such "words" are
    encoded data or URLs, not prose);
  * fewer than 5 words (words are whitespace-separated pieces, as in the reference);
  * does not end in a terminal mark: `.`, `?`, `!` or a closing `"`; a line that ends in an
    ellipsis `...` is dropped even though it ends in `.`;
  * contains the word "javascript" (any case): such lines are usually "please enable JavaScript"
    warnings;
  * contains policy boilerplate: "terms of use", "privacy policy", "cookie policy", "uses cookies",
    "use of cookies", "use cookies".

Page rules (a page that breaks one is dropped whole):
  * contains "lorem ipsum" (placeholder text);
  * contains a curly bracket `{` (most such pages are code, which is not natural language);
  * contains a word from a list of bad words (the reference uses an external list; here the user
    supplies one, or none);
  * has fewer than 3 sentences left after the line rules;
  * is not English with probability >= 0.99 (the reference asks `langdetect`; here any callable
    `text -> (lang, prob)` will do, and the filter is off unless one is given);
  * deduplication: of any span of three consecutive sentences that occurs more than once in the
    corpus, only the first occurrence is kept; the repeats are cut out of later pages, and a page
    left with fewer than 3 sentences is dropped.

Choices this module makes (the reference differs in small ways; where it does, it is said here):
  * The page rules "lorem ipsum" and `{` look only at the lines that survived the line rules, so a
    code line that was dropped anyway (it rarely ends in a full stop) does not sink a prose page.
    The reference checks them line by line, on lines that passed its length and end-mark checks,
    which comes to nearly the same thing.
  * Sentences are counted with a small regular expression, not NLTK's Punkt model, which the
    reference uses: a sentence ends at `.`, `?` or `!` (perhaps followed by a closing quote or
    bracket) when whitespace and then a capital letter, a digit or an opening quote follow. So
    "e.g. the list" stays one sentence, while "Dr. Smith" is counted as two; every kept line ends
    in a terminal mark, so a line boundary is always a sentence boundary.
  * The paper describes deduplication by three-sentence spans, which is what is done here. The
    reference code in `tensorflow_datasets` deduplicates whole lines instead (each repeated line is
    kept in one page only). Both remove repeated boilerplate; the span version is the one the
    paper states, so it is the one taught.
  * The reference checks a line for over-long words before it removes citation markers; here
    markers go first, which differs only for a 1,000-character word that contains one.
  * Each removed line is charged to the first rule that removes it, in the order listed above;
    when a page is dropped, its surviving lines are charged to the page rule that dropped it. So
    `lines_in == lines_out + sum(lines_removed)` and `pages_in == pages_out + sum(pages_removed)`.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

MIN_WORDS_PER_LINE = 5
MIN_NUM_SENTENCES = 3
END_MARKS = (".", "?", "!", '"')
ELLIPSIS = "..."
POLICY_SUBSTRINGS = ("terms of use", "privacy policy", "cookie policy", "uses cookies",
                     "use of cookies", "use cookies")
ENGLISH_MIN_PROB = 0.99
MAX_WORD_LENGTH = 1000
CITATION_MARKER = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")
DEDUP_SPAN = 3

LanguageFilter = Callable[[str], "tuple[str, float]"]


def remove_citations(line: str) -> str:
    """Delete Wikipedia citation markers: "It is old.[1][citation needed]" -> "It is old."
    (only the marker goes; the spaces around it stay)."""
    return CITATION_MARKER.sub("", line)


# --- line rules: each returns True when the line must go --------------------------------------

def has_too_long_word(line: str, max_length: int = MAX_WORD_LENGTH) -> bool:
    """True if a whitespace-separated word of `line` is longer than `max_length` characters."""
    return any(len(word) > max_length for word in line.split())


def too_few_words(line: str, min_words: int = MIN_WORDS_PER_LINE) -> bool:
    """True if `line` has fewer than `min_words` whitespace-separated words."""
    return len(line.split()) < min_words


def lacks_terminal_punctuation(line: str) -> bool:
    """True unless `line` ends in `.`, `?`, `!` or `"`; a trailing ellipsis `...` also counts as
    lacking one (the sentence trails off rather than ends)."""
    line = line.rstrip()
    return not line.endswith(END_MARKS) or line.endswith(ELLIPSIS)


def mentions_javascript(line: str) -> bool:
    """True if `line` contains "javascript" in any case."""
    return "javascript" in line.lower()


def has_policy_boilerplate(line: str) -> bool:
    """True if `line` contains one of the cookie / privacy / terms-of-use phrases."""
    lower = line.lower()
    return any(phrase in lower for phrase in POLICY_SUBSTRINGS)


LINE_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("too_long_word", has_too_long_word),
    ("too_few_words", too_few_words),
    ("no_terminal_punctuation", lacks_terminal_punctuation),
    ("javascript", mentions_javascript),
    ("policy_boilerplate", has_policy_boilerplate),
)


# --- page rules: each returns True when the page must go --------------------------------------

def has_lorem_ipsum(text: str) -> bool:
    """True if `text` contains the placeholder "lorem ipsum" in any case."""
    return "lorem ipsum" in text.lower()


def has_curly_bracket(text: str) -> bool:
    """True if `text` contains `{`, the reference's cheap test for source code."""
    return "{" in text


def load_bad_words(source: str | os.PathLike | Iterable[str]) -> list[str]:
    """Read a bad-words list: a path to a text file with one word or phrase per line, or any
    iterable of strings. Blank lines are skipped; words are lower-cased."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"bad_words file {path!r} does not exist; pass the path of a text file with one "
                f"word per line, or a list of words, or bad_words=None to skip this rule")
        with open(path, encoding="utf-8") as f:
            source = f.read().splitlines()
    words = []
    for word in source:
        if not isinstance(word, str):
            raise TypeError(f"bad_words must hold strings, got {type(word).__name__}: {word!r}")
        word = word.strip().lower()
        if word:
            words.append(word)
    return words


def bad_words_pattern(words: Iterable[str]) -> re.Pattern | None:
    """A regular expression that finds any of `words` as a whole word (or whole phrase) in
    lower-cased text, or None for an empty list. Longer entries are tried first so a phrase wins
    over a word it starts with."""
    words = sorted(set(words), key=lambda w: (-len(w), w))
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def has_bad_words(text: str, pattern: re.Pattern | None) -> bool:
    """True if `text` contains a word matched by `pattern` (from `bad_words_pattern`)."""
    return pattern is not None and pattern.search(text.lower()) is not None


# Whitespace after an end mark (or an end mark and a closing quote or bracket), before a capital,
# a digit or an opening quote or bracket. Two look-behinds because each must have a fixed width.
_SENTENCE_END = re.compile(r"""(?<=[.!?])\s+(?=[A-Z0-9"'(\[])"""
                           r"""|(?<=[.!?]["')\]])\s+(?=[A-Z0-9"'(\[])""")


def split_sentences(line: str) -> list[str]:
    """Split one line into sentences (see the module docstring for the rule and its limits)."""
    return [s for s in _SENTENCE_END.split(line.strip()) if s]


def count_sentences(lines: Iterable[str]) -> int:
    """Number of sentences in a page given as lines; a line boundary ends a sentence."""
    return sum(len(split_sentences(line)) for line in lines)


def too_few_sentences(lines: Iterable[str], min_sentences: int = MIN_NUM_SENTENCES) -> bool:
    """True if the page (its kept lines) has fewer than `min_sentences` sentences."""
    return count_sentences(lines) < min_sentences


def is_english(text: str, language_filter: LanguageFilter,
               min_prob: float = ENGLISH_MIN_PROB) -> bool:
    """Ask `language_filter(text) -> (lang, prob)`; True if lang is "en" and prob >= min_prob."""
    answer = language_filter(text)
    try:
        lang, prob = answer
        prob = float(prob)
    except (TypeError, ValueError):
        raise TypeError(f"language_filter must return a pair (lang, prob) such as ('en', 0.999), "
                        f"got {answer!r}") from None
    return lang == "en" and prob >= min_prob


def langdetect_filter(seed: int = 0) -> LanguageFilter:
    """A `language_filter` built on the optional `langdetect` package (the reference's choice).

    langdetect samples internally; fixing its seed makes the answers repeatable. Text it cannot
    judge (for example, with no letters) is reported as ("unknown", 0.0).
    """
    try:
        from langdetect import DetectorFactory, detect_langs
        from langdetect.lang_detect_exception import LangDetectException
    except ImportError:
        raise ImportError("langdetect_filter needs the langdetect package: pip install langdetect "
                          "(or pass language_filter=None to skip the language rule)") from None
    DetectorFactory.seed = seed

    def detect(text: str) -> tuple[str, float]:
        try:
            best = detect_langs(text)[0]
        except LangDetectException:
            return "unknown", 0.0
        return best.lang, best.prob

    return detect


class SpanDeduplicator:
    """Remembers every run of `span` consecutive sentences of the pages kept so far, and cuts
    runs seen before out of new pages (§2.2: of a three-sentence span found more than once in the
    corpus, only one copy stays). The first page to contain a span keeps it."""

    def __init__(self, span: int = DEDUP_SPAN):
        self.span = span
        self._seen: set[tuple[str, ...]] = set()

    def _windows(self, sentences: list[str]) -> Iterator[tuple[str, ...]]:
        for i in range(len(sentences) - self.span + 1):
            yield tuple(sentences[i:i + self.span])

    def remove_repeats(self, lines: list[str]) -> tuple[list[str], int]:
        """Return `lines` without the sentences covered by a repeated span, and how many
        sentences went. A span repeated inside the same page counts as a repeat too.

        Cutting a span joins the sentences on either side, which can form a span seen before;
        so cut again until nothing repeats (each pass removes at least `span` sentences).
        """
        total = 0
        while True:
            lines, cut = self._cut_once(lines)
            total += cut
            if cut == 0:
                return lines, total

    def _cut_once(self, lines: list[str]) -> tuple[list[str], int]:
        per_line = [split_sentences(line) for line in lines]
        flat = [s for sentences in per_line for s in sentences]
        drop: set[int] = set()
        local: set[tuple[str, ...]] = set()
        for i, window in enumerate(self._windows(flat)):
            if window in self._seen or window in local:
                drop.update(range(i, i + self.span))
            else:
                local.add(window)
        if not drop:
            return list(lines), 0
        kept_lines, index = [], 0
        for line, sentences in zip(lines, per_line):
            keep = [s for j, s in enumerate(sentences, start=index) if j not in drop]
            index += len(sentences)
            if len(keep) == len(sentences):
                kept_lines.append(line)
            elif keep:
                kept_lines.append(" ".join(keep))
        return kept_lines, len(drop)

    def remember(self, lines: list[str]) -> None:
        """Record the spans of a page that is being kept."""
        flat = [s for line in lines for s in split_sentences(line)]
        self._seen.update(self._windows(flat))


LINE_RULE_NAMES = tuple(name for name, _ in LINE_RULES)
PAGE_RULE_NAMES = ("lorem_ipsum", "curly_bracket", "bad_words", "too_few_sentences",
                   "not_english", "duplicate_spans")


@dataclass
class CleaningReport:
    """What `clean_corpus` removed: lines and pages per rule, and the totals in and out.

    Counts grow as the `clean_corpus` generator is consumed, so read them after the loop.
    """
    pages_in: int = 0
    pages_out: int = 0
    lines_in: int = 0
    lines_out: int = 0
    duplicate_sentences: int = 0
    lines_removed: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(LINE_RULE_NAMES + PAGE_RULE_NAMES, 0))
    pages_removed: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(PAGE_RULE_NAMES, 0))

    def __str__(self) -> str:
        width = max(len(name) for name in LINE_RULE_NAMES + PAGE_RULE_NAMES) + 2
        rows = [f"C4 cleaning (paper §2.2): {self.pages_out:,} of {self.pages_in:,} pages kept, "
                f"{self.lines_out:,} of {self.lines_in:,} lines kept",
                f"{'rule':<{width}}{'lines removed':>15}{'pages removed':>15}"]
        for name in LINE_RULE_NAMES:
            rows.append(f"{name:<{width}}{self.lines_removed[name]:>15,}{'-':>15}")
        for name in PAGE_RULE_NAMES:
            rows.append(f"{name:<{width}}{self.lines_removed[name]:>15,}"
                        f"{self.pages_removed[name]:>15,}")
        rows.append(f"{'total':<{width}}{sum(self.lines_removed.values()):>15,}"
                    f"{sum(self.pages_removed.values()):>15,}")
        rows.append(f"({self.duplicate_sentences:,} sentences cut as parts of repeated "
                    f"{DEDUP_SPAN}-sentence spans)")
        return "\n".join(rows)


def _apply_line_rules(text: str, report: CleaningReport) -> list[str]:
    kept = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue  # blank lines are layout, not content: not counted
        report.lines_in += 1
        line = remove_citations(line).strip()
        for name, breaks_rule in LINE_RULES:
            if breaks_rule(line):
                report.lines_removed[name] += 1
                break
        else:
            kept.append(line)
    return kept


def _drop(report: CleaningReport, rule: str, lines: list[str]) -> None:
    report.pages_removed[rule] += 1
    report.lines_removed[rule] += len(lines)


def clean_corpus(pages: Iterable[str], bad_words=None,
                 language_filter: LanguageFilter | None = None,
                 report: CleaningReport | None = None) -> Iterator[str]:
    """Clean `pages` with the C4 rules, yielding each kept page (its kept lines joined by "\\n").

    pages: any iterable of page texts; it is read once, lazily, so a large file can stream.
    bad_words: None (rule off), a path to a one-word-per-line file, or an iterable of words.
    language_filter: None (rule off) or a callable `text -> (lang, prob)`, e.g.
        `langdetect_filter()`; pages with lang "en" and prob >= 0.99 are kept.
    report: a `CleaningReport` to fill in; pass one to see what each rule removed.

    Order: line rules, then lorem ipsum, curly bracket, bad words, too few sentences, language,
    and last the span deduplication (so only pages that are kept can claim a span).
    """
    # Arguments are checked here, at the call, rather than at the first page the loop reads.
    if report is None:
        report = CleaningReport()
    if language_filter is not None and not callable(language_filter):
        raise TypeError("language_filter must be a callable text -> (lang, prob), or None")
    pattern = bad_words_pattern(load_bad_words(bad_words)) if bad_words is not None else None
    return _clean(pages, pattern, language_filter, report)


def _clean(pages: Iterable[str], pattern: re.Pattern | None,
           language_filter: LanguageFilter | None, report: CleaningReport) -> Iterator[str]:
    deduplicator = SpanDeduplicator()
    for page in pages:
        if not isinstance(page, str):
            raise TypeError(f"pages must be strings, got {type(page).__name__}")
        report.pages_in += 1
        lines = _apply_line_rules(page, report)
        text = "\n".join(lines)
        if has_lorem_ipsum(text):
            _drop(report, "lorem_ipsum", lines)
        elif has_curly_bracket(text):
            _drop(report, "curly_bracket", lines)
        elif has_bad_words(text, pattern):
            _drop(report, "bad_words", lines)
        elif too_few_sentences(lines):
            _drop(report, "too_few_sentences", lines)
        elif language_filter is not None and not is_english(text, language_filter):
            _drop(report, "not_english", lines)
        else:
            unique, n_cut = deduplicator.remove_repeats(lines)
            report.duplicate_sentences += n_cut
            if too_few_sentences(unique):
                _drop(report, "duplicate_spans", lines)
                continue
            report.lines_removed["duplicate_spans"] += len(lines) - len(unique)
            deduplicator.remember(unique)
            report.pages_out += 1
            report.lines_out += len(unique)
            yield "\n".join(unique)


def clean_pages(pages: Iterable[str], bad_words=None,
                language_filter: LanguageFilter | None = None) -> tuple[list[str], CleaningReport]:
    """`clean_corpus` for a corpus that fits in memory: returns (kept pages, report)."""
    report = CleaningReport()
    kept = list(clean_corpus(pages, bad_words=bad_words, language_filter=language_filter,
                             report=report))
    return kept, report
