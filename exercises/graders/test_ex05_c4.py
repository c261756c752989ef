"""Graders for chapter 5 (C4 cleaning): the student's filters against minit5.data.cleaning."""
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise
from exercises.graders.report import check_equal
from exercises.reference import EXERCISES
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
    return draw(st.one_of(st.just(sentence), st.just(sentence), noise)).strip()


# ---- 5.1 line rules -------------------------------------------------------------------------

LINE_HINTS = {
    "too_few_words": "drop a line with fewer than 5 words: len(line.split()) < 5",
    "no_terminal_punctuation": "keep only lines ending in '.', '?', '!' or '\"', and drop "
                               "those ending in '...' (line.endswith accepts a tuple)",
    "javascript": "drop a line whose lower-cased text contains 'javascript'",
    "policy_boilerplate": "drop a line whose lower-cased text contains any of 'terms of use', "
                          "'privacy policy', 'cookie policy', 'uses cookies', 'use of cookies', "
                          "'use cookies'",
}


def check_line(line):
    expected = EXERCISES["5.1"].reference(line)
    broken = [name for name, breaks_rule in cleaning.LINE_RULES if breaks_rule(line)]
    hint = LINE_HINTS[broken[0]] if broken else \
        "this line breaks no rule: 5+ words, a terminal mark, no javascript, no boilerplate"
    check_equal("keep_line", keep_line(line), expected, hint, inputs={"line": line})


@pytest.mark.ex5_1
@given(lines())
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
])
def test_keep_line_examples(line):
    check_line(line)


# ---- 5.2 page rules -------------------------------------------------------------------------

def check_page(page, bad_words):
    expected = EXERCISES["5.2"].reference(page, bad_words)
    text = "\n".join(page)
    pattern = cleaning.bad_words_pattern(cleaning.load_bad_words(bad_words))
    if cleaning.has_lorem_ipsum(text):
        hint = "drop a page whose lower-cased text contains 'lorem ipsum'"
    elif cleaning.has_curly_bracket(text):
        hint = "drop a page that contains '{'"
    elif cleaning.has_bad_words(text, pattern):
        hint = ("drop a page with a bad word as a whole word or phrase, in any case (for "
                "example re.search(r'(?<!\\w)' + re.escape(word) + r'(?!\\w)', text.lower()))")
    elif cleaning.too_few_sentences(page):
        hint = "drop a page with fewer than 3 sentences: count_sentences(lines) < 3"
    else:
        hint = ("this page breaks no rule; a bad word must match as a whole word, not inside "
                "another word, and blank entries in bad_words are skipped")
    check_equal("keep_page", keep_page(page, bad_words), expected, hint,
                inputs={"lines": page, "bad_words": bad_words})


bad_word_lists = st.lists(st.sampled_from(["cat", "Cat ", "bad word", "mat", "", " ", "words"]),
                          max_size=3)


@pytest.mark.ex5_2
@given(st.lists(lines(), max_size=6), bad_word_lists)
def test_keep_page_matches_library(page, bad_words):
    check_page(page, bad_words)


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
])
def test_keep_page_examples(page, bad_words):
    check_page(page, bad_words)
