"""Graders for chapter 6 (task formats): the student's against minit5.data.tasks."""
import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check_equal

squad_format = exercise("6.1")
pig_latin = exercise("6.2")


# ---- 6.1 SQuAD as text ----------------------------------------------------------------------

SQUAD_HINT = ("'question:', the question, 'context:', the context, joined by spaces; first put a "
              "space on each side of every string.punctuation character of both texts, then "
              "collapse each run of whitespace to one space (re.sub(r'\\s+', ' ', ...)); "
              "no strip")
# Every ASCII punctuation mark (`_` included), non-ASCII letters and punctuation (not in
# string.punctuation: no spaces around them), tabs, newlines and Unicode spaces (which \s
# matches too), and leading and trailing spaces.
ALPHABET = (string.ascii_letters + string.digits + string.punctuation + "  \t\n\u00a0\u2003"
            + "éüßñçøЖ東京¿¡—«»…’")
texts = st.one_of(st.text(alphabet=string.ascii_letters + string.digits + " .,?!'-",
                          max_size=30),
                  st.text(alphabet=ALPHABET, max_size=30), st.text(max_size=12))


@pytest.mark.ex6_1
@given(texts, texts)
def test_squad_format_matches_library(question, context):
    check_squad(question, context)


@pytest.mark.ex6_1
@pytest.mark.parametrize("question, context", [
    ("snake_case?", "a_b c"), ("¿Qué tal?", "Très «bien»… merci."), ("a\u00a0b", "tab\there"),
    (" leading", "trailing "), ("", ""), ("it's", "a—b, (c)"), ("\n", "x\u2003\u2003y")])
def test_squad_format_pinned_cases(question, context):
    check_squad(question, context)


def check_squad(question, context):
    __tracebackhide__ = True
    expected = reference("6.1")(question, context)
    check_equal("squad_format", squad_format(question, context), expected, SQUAD_HINT,
                inputs={"question": question, "context": context},
                mistakes=[("putting the context first",
                           lambda: f"context: {context} question: {question}"),
                          ("stripping the texts",
                           lambda: f"question: {question.strip()} context: {context.strip()}"),
                          ("spacing every character that is not a letter, digit or space "
                           "([^\\w\\s]), not string.punctuation",
                           lambda: _spaced(question, context, r"([^\w\s])")),
                          ("spacing only . , ? ! and ' (not every string.punctuation mark)",
                           lambda: _spaced(question, context, r"([.,?!'])")),
                          ("collapsing only runs of ASCII spaces, not tabs, newlines or "
                           "Unicode spaces", lambda: re.sub(" +", " ", " ".join(
                               ["question:", re.sub(PUNCT, r" \1 ", question), "context:",
                                re.sub(PUNCT, r" \1 ", context)])))])


PUNCT = "([" + re.escape(string.punctuation) + "])"


def _spaced(question, context, pattern):
    text = " ".join(["question:", re.sub(pattern, r" \1 ", question), "context:",
                     re.sub(pattern, r" \1 ", context)])
    return re.sub(r"\s+", " ", text)


# ---- 6.2 Pig Latin --------------------------------------------------------------------------

PIG_HINT = ("find the first vowel (y counts after the first letter, u right after q does "
            "not); a word that starts with a vowel gets 'way', a word with none gets 'ay'")


def pig_mistakes(word):
    def move_before(vowels):
        for i, letter in enumerate(word):
            if letter in vowels:
                return word[i:] + word[:i] + ("way" if i == 0 else "ay")
        return word + "ay"
    return [("not counting y as a vowel after the first letter",
             lambda: move_before("aeiou")),
            ("counting the u of qu as a vowel",
             lambda: word + "way" if word[:1] in "aeiou" else move_before("aeiouy")),
            ("adding 'ay' (not 'way') to a word that starts with a vowel",
             lambda: word + "ay" if word[:1] in "aeiou" else None)]


@pytest.mark.ex6_2
@given(st.text(alphabet=string.ascii_lowercase, max_size=9))
def test_pig_latin_matches_library(word):
    expected = reference("6.2")(word)
    check_equal("pig_latin", pig_latin(word), expected, PIG_HINT, inputs={"word": word},
                mistakes=pig_mistakes(word) if word else None)


@pytest.mark.ex6_2
@pytest.mark.parametrize("word", ["apple", "string", "rhythm", "queen", "squeal", "yellow",
                                  "my", "psst", "a", "q", "quq", "", "eye", "bqu"])
def test_pig_latin_special_words(word):
    expected = reference("6.2")(word)
    check_equal("pig_latin", pig_latin(word), expected, PIG_HINT, inputs={"word": word},
                mistakes=pig_mistakes(word) if word else None)
