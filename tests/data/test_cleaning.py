"""C4 cleaning (paper §2.2): one test per rule, then the whole pipeline and its report."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minit5.data.cleaning import (
    CleaningReport,
    SpanDeduplicator,
    bad_words_pattern,
    clean_corpus,
    clean_pages,
    count_sentences,
    has_bad_words,
    has_curly_bracket,
    has_lorem_ipsum,
    has_policy_boilerplate,
    has_too_long_word,
    is_english,
    lacks_terminal_punctuation,
    load_bad_words,
    mentions_javascript,
    remove_citations,
    split_sentences,
    too_few_sentences,
    too_few_words,
)

GOOD = ["The river runs past the old mill.", "Children play in the green park today.",
        "Most shops close early on a Sunday.", "Is the train to the coast on time?",
        "We walked all the way home together!"]


def page(*lines):
    return "\n".join(lines)


# --- line rules ---------------------------------------------------------------------------------

@pytest.mark.parametrize("line, cleaned", [
    ("It was built in 1850.[1]", "It was built in 1850."),
    ("It was built[23] in 1850[].", "It was built in 1850."),
    ("Nobody knows why.[citation needed][edit]", "Nobody knows why."),
    ("A list [a] and [1a] stay.", "A list [a] and [1a] stay."),    # not citation markers
])
def test_citation_markers_are_removed(line, cleaned):
    assert remove_citations(line) == cleaned


def test_citation_marker_removal_saves_a_line():
    # the marker hid the full stop at the end; without it the line ends in "." and is kept
    pages = [page(*GOOD[:3], "The old bridge was rebuilt in stone.[4]")]
    kept, _ = clean_pages(pages)
    assert kept == [page(*GOOD[:3], "The old bridge was rebuilt in stone.")]


def test_a_word_over_1000_characters_drops_the_line():
    assert not has_too_long_word("a b c " + "x" * 999 + ".")     # 1,000 characters: kept
    assert has_too_long_word("a b c " + "x" * 1000 + ".")
    pages = [page(*GOOD[:3], "Here is a long token: " + "y" * 1001 + " in a line.")]
    kept, report = clean_pages(pages)
    assert kept == [page(*GOOD[:3])] and report.lines_removed["too_long_word"] == 1


def test_too_few_words_needs_five():
    assert too_few_words("One two three four.")
    assert not too_few_words("One two three four five.")
    assert too_few_words("   ")


@pytest.mark.parametrize("line, drop", [
    ("It ends with a full stop.", False),
    ("Does it end with a question?", False),
    ("It ends with a bang!", False),
    ('He said "it ends with a quote."', False),
    ("It trails off into an ellipsis...", True),
    ("It ends with no mark at all", True),
    ("It ends with a colon:", True),
    ("It ends with a closing bracket (like this)", True),
])
def test_terminal_punctuation(line, drop):
    assert lacks_terminal_punctuation(line) is drop


def test_javascript_any_case():
    assert mentions_javascript("Please enable JavaScript to view this page.")
    assert mentions_javascript("javascript is required.")
    assert not mentions_javascript("Please enable Java to view this page.")


@pytest.mark.parametrize("phrase", ["terms of use", "Privacy Policy", "cookie policy",
                                    "uses cookies", "use of cookies", "use cookies"])
def test_policy_boilerplate(phrase):
    assert has_policy_boilerplate(f"By staying here you accept our {phrase} today.")
    assert not has_policy_boilerplate("The cook used the oven for the cookies.")


# --- page rules ---------------------------------------------------------------------------------

def test_lorem_ipsum():
    assert has_lorem_ipsum("Lorem Ipsum dolor sit amet.")
    assert not has_lorem_ipsum("Lorem is not ipsum.")


def test_curly_bracket():
    assert has_curly_bracket("function f() { return 1; }")
    assert not has_curly_bracket("Only (round) and [square] brackets here.")


def test_bad_words_match_whole_words_only(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("Darn\n\nheck it\n", encoding="utf-8")
    words = load_bad_words(path)
    assert words == ["darn", "heck it"]
    pattern = bad_words_pattern(words)
    assert has_bad_words("Oh DARN, the bus left.", pattern)
    assert has_bad_words("Well, heck it all.", pattern)
    assert not has_bad_words("The darning needle is here.", pattern)   # inside a word
    assert not has_bad_words("What the heck.", pattern)                # only part of a phrase
    assert not has_bad_words("anything at all", bad_words_pattern([]))


def test_bad_words_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="bad_words file"):
        load_bad_words(tmp_path / "missing.txt")
    with pytest.raises(TypeError, match="strings"):
        load_bad_words(["fine", 3])


@pytest.mark.parametrize("line, n", [
    ("One sentence here.", 1),
    ("First one. Second one! Third one? Fourth.", 4),
    ('He said "stop." Then he left.', 2),
    ("Use a list, e.g. the one above. Then stop.", 2),  # lower case after "e.g." does not split
    ("Version 3.11 is out. It is 2024.", 2),             # no split inside a number
])
def test_split_sentences(line, n):
    assert len(split_sentences(line)) == n


def test_too_few_sentences_counts_lines_as_boundaries():
    assert too_few_sentences(["One sentence here.", "Two sentences. Here it is."]) is False
    assert too_few_sentences(["One sentence here.", "Another one."]) is True
    assert count_sentences(["A. B.", "C."]) == 3


def test_language_filter_keeps_confident_english():
    assert is_english("text", lambda t: ("en", 0.995))
    assert not is_english("text", lambda t: ("en", 0.98))
    assert not is_english("text", lambda t: ("de", 0.999))
    with pytest.raises(TypeError, match="language_filter must return"):
        is_english("text", lambda t: "en")


def test_dedup_keeps_first_three_sentence_span():
    dedup = SpanDeduplicator()
    first = ["A one. B two. C three.", "D four."]
    kept, cut = dedup.remove_repeats(first)
    assert (kept, cut) == (first, 0)
    dedup.remember(kept)
    second = ["Z zero. A one. B two. C three. E five."]
    kept, cut = dedup.remove_repeats(second)
    assert kept == ["Z zero. E five."] and cut == 3
    # two sentences in common is not a repeated span
    kept, cut = dedup.remove_repeats(["A one. B two. X ten."])
    assert cut == 0


def test_dedup_cuts_again_when_a_cut_joins_a_seen_span():
    dedup = SpanDeduplicator()
    dedup.remember(["P p. Q q. R r."])
    dedup.remember(["A a. B b. C c."])
    # cutting P Q R leaves A B C side by side, a span seen before: it goes too
    kept, cut = dedup.remove_repeats(["A a. B b. P p. Q q. R r. C c.", "Z z."])
    assert kept == ["Z z."] and cut == 6


def test_dedup_catches_repeats_inside_one_page():
    kept, cut = SpanDeduplicator().remove_repeats(["A a. B b. C c.", "A a. B b. C c.", "D d."])
    assert kept == ["A a. B b. C c.", "D d."] and cut == 3


# --- the pipeline -------------------------------------------------------------------------------

def test_pipeline_counts_each_rule():
    pages = [
        page(*GOOD[:3], "Short line.", "This line has no end mark at all",
             "Please turn on JavaScript to see this page.",
             "This site uses cookies to help you browse."),          # kept, 4 lines removed
        page(*GOOD[:3], "Lorem ipsum dolor sit amet consectetur."),  # lorem ipsum
        page(*GOOD[:3], "In code you write { and never close it."),   # curly bracket
        page(*GOOD[3:], "Oh darn, the bus left without us today."),   # bad words
        page(GOOD[0], GOOD[1]),                                       # too few sentences
        page(*GOOD[:3]),                                              # duplicate of page 0
        page(*GOOD[2:], GOOD[0]),                                     # kept (new spans)
    ]
    report = CleaningReport()
    kept = list(clean_corpus(pages, bad_words=["darn"], report=report))
    assert kept == [page(*GOOD[:3]), page(*GOOD[2:], GOOD[0])]
    assert report.pages_in == 7 and report.pages_out == 2
    assert report.lines_removed["too_few_words"] == 1
    assert report.lines_removed["no_terminal_punctuation"] == 1
    assert report.lines_removed["javascript"] == 1
    assert report.lines_removed["policy_boilerplate"] == 1
    for rule in ("lorem_ipsum", "curly_bracket", "bad_words", "too_few_sentences",
                 "duplicate_spans"):
        assert report.pages_removed[rule] == 1, rule
    assert report.lines_removed["duplicate_spans"] == 3
    assert report.duplicate_sentences == 3
    assert report.lines_in == report.lines_out + sum(report.lines_removed.values())
    assert report.pages_in == report.pages_out + sum(report.pages_removed.values())
    table = str(report)
    assert "2 of 7 pages kept" in table and "curly_bracket" in table


def test_pipeline_language_filter_and_clean_pages():
    english = page(*GOOD[:3])
    other = page(*GOOD[2:])
    verdict = {english: ("en", 0.999), other: ("fr", 0.999)}
    kept, report = clean_pages([english, other], language_filter=verdict.__getitem__)
    assert kept == [english]
    assert report.pages_removed["not_english"] == 1


def test_langdetect_filter_says_how_to_install(monkeypatch):
    import sys

    from minit5.data.cleaning import langdetect_filter
    monkeypatch.setitem(sys.modules, "langdetect", None)   # makes `import langdetect` fail
    with pytest.raises(ImportError, match="pip install langdetect"):
        langdetect_filter()


def test_pipeline_rejects_bad_inputs():
    with pytest.raises(TypeError, match="pages must be strings"):
        list(clean_corpus([b"bytes page"]))
    with pytest.raises(TypeError, match="language_filter"):
        clean_corpus([], language_filter="en")        # checked at the call, not at first use
    with pytest.raises(FileNotFoundError, match="bad_words"):
        clean_corpus([], bad_words="no/such/list.txt")


@given(st.lists(st.lists(st.sampled_from(GOOD + ["Too short.", "no end mark here at all",
                                                 "A { here makes it code."]),
                         max_size=6), max_size=6))
def test_pipeline_books_balance(pages_as_lines):
    pages = ["\n".join(lines) for lines in pages_as_lines]
    kept, report = clean_pages(pages)
    assert report.pages_out == len(kept)
    assert report.lines_in == report.lines_out + sum(report.lines_removed.values())
    assert report.pages_in == report.pages_out + sum(report.pages_removed.values())
    # what comes out is already clean: cleaning it again changes nothing
    again, _ = clean_pages(kept)
    assert again == kept
