"""Graders for chapter 5 (C4 cleaning): the student's filters against minit5.data.cleaning."""
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check_equal
from minit5.data import cleaning

keep_line = exercise("5.1")
keep_page = exercise("5.2")

# Words and phrases that trip the rules (and near misses that must not), mixed with plain ones.
PIECES = ["the", "cat", "sat", "on", "a", "mat", "we", "It", "Dr.", "e.g.", "3", "Concatenate",
          "Cat", "said", '"Yes', 'no"', "JavaScript", "javascript", "Java", "script",
          "terms of use", "Terms of Use", "privacy policy", "Privacy", "policy",
          "cookie policy", "uses cookies", "use of cookies", "use cookies", "cookies", "use",
          "lorem ipsum", "Lorem Ipsum", "lorem", "{", "}", "x{y}", "bad word", "bad", "words"]
ENDINGS = [".", ".", "!", "?", '"', "...", "", ",", ":", ". ", ".)", "'"]


@st.composite
def lines(draw):
    words = draw(st.lists(st.sampled_from(PIECES), max_size=9))
    sentence = " ".join(words) + draw(st.sampled_from(ENDINGS))
    noise = st.text(alphabet=string.ascii_letters + string.digits + " .,!?\"'{}-", max_size=40)
    unicode = st.text(max_size=40)                          # any Unicode, `_` included
    return draw(st.one_of(st.just(sentence), st.just(sentence), noise, unicode)).strip()


PLAIN = ["the", "cat", "sat", "on", "a", "mat", "we", "It", "Dr.", "said", "3", "words",
         "Concatenate", "Java", "script", "policy", "use", "cookies", "lorem", "Grüße",
         "Köln", "snake_case", "東京", "naïve"]
# What separates two words: one space mostly, but also runs of spaces, tabs and Unicode spaces
# (split() treats every run as one gap; split(" ") would count the empty pieces as words).
SPACES = st.sampled_from([" "] * 6 + ["  ", "   ", "\t", " \t ", "\u00a0", "\u2003"])


@st.composite
def kept_lines(draw):
    """A line that passes every line rule: 5 or more plain words and a terminal mark."""
    words = draw(st.lists(st.sampled_from(PLAIN), min_size=5, max_size=10))
    gaps = draw(st.lists(SPACES, min_size=len(words) - 1, max_size=len(words) - 1))
    line = words[0] + "".join(gap + word for gap, word in zip(gaps, words[1:]))
    return line + draw(st.sampled_from([".", "!", "?", '"', '."']))


@st.composite
def rejected_lines(draw):
    """A kept line broken by exactly one rule, chosen at random."""
    line = draw(kept_lines())
    rule = draw(st.sampled_from(["few", "mark", "ellipsis", "javascript", "policy"]))
    if rule == "few":                   # 1 to 4 words, sometimes with runs of spaces between
        gap = draw(st.sampled_from([" ", "  ", "   ", "\t\t"]))
        return gap.join(line.split()[:draw(st.integers(1, 4))]).rstrip(".!?\"") + "."
    if rule == "mark":
        return line.rstrip(".!?\"") + draw(st.sampled_from(["", ",", ":", ";", ")"]))
    if rule == "ellipsis":
        return line.rstrip(".!?\"") + "..."
    phrase = draw(st.sampled_from(["JavaScript", "javascript"])) if rule == "javascript" else \
        draw(st.sampled_from(["terms of use", "Privacy Policy", "cookie policy",
                              "uses cookies", "use of cookies", "use cookies"]))
    words = line.split()
    at = draw(st.integers(0, len(words) - 1))
    return " ".join(words[:at] + [phrase] + words[at:])


# Half kept, half rejected (random text alone is almost always rejected).
balanced_lines = st.one_of(kept_lines(), rejected_lines(), lines())


# ---- 5.1 line rules -------------------------------------------------------------------------

LINE_HINTS = {
    "too_long_word": "this line has a word longer than 1000 characters",
    "too_few_words": "this line breaks the word-count rule; words are what split() gives",
    "no_terminal_punctuation": "this line breaks the terminal-mark rule: look at how it ends "
                               "(an ellipsis is not an ending)",
    "javascript": "this line breaks the javascript rule, which ignores case",
    "policy_boilerplate": "this line breaks the boilerplate rule, which ignores case and "
                          "covers all six phrases",
}


def check_line(line):
    expected = reference("5.1")(line)
    broken = [name for name, breaks_rule in cleaning.LINE_RULES if breaks_rule(line)]
    hint = LINE_HINTS[broken[0]] if broken else \
        "this line breaks no rule, so it is kept: one of your rules is stricter than C4's"
    check_equal("keep_line", keep_line(line), expected, hint, inputs={"line": line})


@pytest.mark.ex5_1
@given(balanced_lines)
def test_keep_line_matches_library(line):
    check_line(line)


@pytest.mark.ex5_1
@pytest.mark.parametrize("line", [
    "Four words only here.",
    "Now there are five words.",
    "Five words but no mark",
    "Five words that trail off...",
    'She said "five words is enough."',
    "Is this a question with words?",
    "Please enable JavaScript to view this page.",
    "Read our Privacy Policy before you go.",
    "This site uses cookies to work well.",
    "",                                                   # an empty line
    "Four  words  only here.",                            # runs of spaces are one gap each
    "Three   words\there.",
    "a \u00a0 b \u2003 c \t d.",
    "Grüße aus Köln, meine lieben Freunde.",
    "snake_case words still count as words.",
    "x" * 1001 + " and then four more words.",             # a word of 1001 characters
    "x" * 1000 + " and then four more words.",             # exactly 1000: kept
])
def test_keep_line_examples(line):
    check_line(line)


# ---- 5.2 page rules -------------------------------------------------------------------------

def check_page(page, bad_words):
    expected = reference("5.2")(page, bad_words)
    text = "\n".join(page)
    pattern = cleaning.bad_words_pattern(cleaning.load_bad_words(bad_words))
    if cleaning.has_lorem_ipsum(text):
        hint = "this page breaks the lorem-ipsum rule, which ignores case"
    elif cleaning.has_curly_bracket(text):
        hint = "this page breaks the curly-bracket rule"
    elif cleaning.has_bad_words(text, pattern):
        hint = ("this page holds a bad word as a whole word or phrase, in some case: the "
                "match ignores case but must not start or end inside another word")
    elif cleaning.too_few_sentences(page):
        hint = "this page breaks the sentence-count rule (count them as the docstring says)"
    else:
        hint = ("this page breaks no rule; a bad word must match as a whole word, not inside "
                "another word, and blank entries in bad_words are skipped")
    check_equal("keep_page", keep_page(page, bad_words), expected, hint,
                inputs={"lines": page, "bad_words": bad_words})


bad_word_lists = st.lists(st.sampled_from(["cat", "Cat ", "bad word", "mat", "", " ", "words"]),
                          max_size=3)


@st.composite
def kept_pages(draw):
    """A page that passes every page rule: three or more kept lines, nothing forbidden."""
    return draw(st.lists(kept_lines(), min_size=3, max_size=6))


@st.composite
def rejected_pages(draw):
    """A kept page broken by one page rule."""
    page = draw(kept_pages())
    rule = draw(st.sampled_from(["lorem", "curly", "bad", "few"]))
    if rule == "few":
        return page[:draw(st.integers(0, 2))]
    extra = {"lorem": "Lorem Ipsum dolor sit amet.", "curly": "Some {code} here.",
             "bad": "A Bad Word appears here."}[rule]
    return page[:1] + [extra] + page[1:]


balanced_pages = st.one_of(kept_pages(), rejected_pages(), st.lists(lines(), max_size=6))


@pytest.mark.ex5_2
@given(balanced_pages, bad_word_lists)
def test_keep_page_matches_library(page, bad_words):
    check_page(page, bad_words)


@pytest.mark.ex5_2
@given(balanced_pages)
def test_keep_page_default_bad_words(page):
    # keep_page(lines) with bad_words left out: no bad word at all.
    check_equal("keep_page", keep_page(page), reference("5.2")(page), "bad_words defaults to "
                "() (no bad words): the other page rules still apply",
                inputs={"lines": page})


@pytest.mark.ex5_2
@pytest.mark.parametrize("page, bad_words", [
    (["One sentence here.", "Two sentences there.", "And a third one!"], []),
    (["One sentence here.", "Two sentences there."], []),
    (["One sentence. Two sentences. Three sentences."], []),
    (["Lorem Ipsum dolor sit amet.", "Two.", "Three."], []),
    (["Use {braces} here.", "Two.", "Three."], []),
    (["A cat sat here.", "Two.", "Three."], ["cat"]),
    (["Concatenate the lists.", "Two.", "Three."], ["cat"]),
    (["A Bad Word appears.", "Two.", "Three."], ["bad word"]),
    (["A cat_ sat here.", "Two.", "Three."], ["cat"]),           # `_` is part of a word
    (["Ein écat hier.", "Two.", "Three."], ["cat"]),              # so is a non-ASCII letter
    (["Über cat und Maus.", "Two.", "Three."], ["cat"]),
    (["Der CAT-Test hier.", "Two.", "Three."], ["cat"]),
    (["A bad  word appears.", "Two.", "Three."], ["bad word"]),   # two spaces: no match
    ([], []), ([""], []),                                         # no line, an empty line
])
def test_keep_page_examples(page, bad_words):
    check_page(page, bad_words)
