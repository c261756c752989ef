"""GLUE, SuperGLUE, SQuAD and Winograd formats with the expected strings of the t5 library's
preprocessors_test.py (test_glue, test_multirc, test_stsb, test_squad, test_pad_punctuation,
test_record, test_wsc_simple, test_definite_pronoun_resolution_simple, test_wnli_simple)."""
import pytest

from minit5.data import superglue
from minit5.data.tasks import (
    glue,
    label_to_string,
    pad_punctuation,
    squad,
    squad_format,
    stsb_to_string,
)

QQP = {"q1": "How so?", "q2": "Why not?", "q3": "Who?", "idx": 10, "label": 0}
QQP_LABELS = ["not_duplicate", "duplicate"]


def test_glue_like_t5():
    assert glue("qqp", QQP, QQP_LABELS) == ("qqp q1: How so? q2: Why not? q3: Who?",
                                            "not_duplicate")
    assert glue("qqp", QQP, QQP_LABELS, feature_names=["q3", "q1"]) == \
        ("qqp q3: Who? q1: How so?", "not_duplicate")
    assert glue("qqp", {**QQP, "label": -1}, QQP_LABELS)[1] == "<unk>"
    assert label_to_string("mnli", -1) == "<unk>"


def test_glue_errors():
    with pytest.raises(ValueError, match="out of range"):
        glue("qqp", {**QQP, "label": 2}, QQP_LABELS)
    with pytest.raises(KeyError, match="no 'label'"):
        glue("qqp", {"q1": "a"}, QQP_LABELS)
    with pytest.raises(KeyError, match="missing fields"):
        glue("qqp", QQP, QQP_LABELS, feature_names=["q9"])


def test_multirc_like_t5():
    example = {
        "paragraph": "<b>Sent 1: </b>Once upon a time, there was a squirrel named Joey.<br>"
                     "<b>Sent 2: </b>Joey loved to go outside and play with his cousin Jimmy.",
        "question": "Why was Joey surprised the morning he woke up for breakfast?",
        "answer": "There was only pie to eat", "label": 1,
        "idx": {"paragraph": 5, "question": 1, "answer": 3}}
    assert superglue.superglue("multirc", example) == (
        "multirc question: Why was Joey surprised the morning he woke up for breakfast? "
        "answer: There was only pie to eat paragraph: Sent 1: Once upon a time, there was a "
        "squirrel named Joey. Sent 2: Joey loved to go outside and play with his cousin Jimmy.",
        "True")


@pytest.mark.parametrize("task, example, expected", [
    ("boolq", {"question": "is it", "passage": "It is.", "label": 1},
     ("boolq passage: It is. question: is it", "True")),
    ("cb", {"premise": "P.", "hypothesis": "H.", "label": 2},
     ("cb hypothesis: H. premise: P.", "neutral")),
    ("copa", {"premise": "P.", "choice1": "A.", "choice2": "B.", "question": "cause",
              "label": 0},
     ("copa choice1: A. choice2: B. premise: P. question: cause", "choice1")),
    ("wic", {"sentence1": "S1.", "sentence2": "S2.", "word": "w", "label": 0, "start1": 3},
     ("wic sentence1: S1. sentence2: S2. word: w", "False")),
    ("axb", {"sentence1": "A.", "sentence2": "B.", "label": -1},
     ("rte sentence1: A. sentence2: B.", "<unk>")),
])
def test_superglue_formats(task, example, expected):
    assert superglue.superglue(task, example) == expected


def test_stsb_like_t5():
    assert stsb_to_string(2.8) == "2.8"
    assert stsb_to_string(1.66) == "1.6"


def test_squad_like_t5():
    assert pad_punctuation('"This  is a string with "punctuation (1845-1986) ".') == \
        ' " This is a string with " punctuation ( 1845 - 1986 ) " . '
    assert pad_punctuation('"Introducción (la vídeo)".') == ' " Introducción ( la vídeo ) " . '
    assert squad_format("A question?", "Some context.") == \
        "question: A question ? context: Some context . "
    assert squad("A question?", "Some context.", ["The answer.", "Another answer."]) == (
        "question: A question ? context: Some context . ", ["The answer . ", "Another answer . "])


RECORD = {"query": "It was @placeholder.", "entities": ["A", "B", "C"],
          "passage": "This is the passage\n@highlight\nAnother sentence.\n@highlight\n"
                     "Third sentence."}
RECORD_INPUT = ("record query: It was @placeholder. entities: A, B, C passage: This is the "
                "passage. Another sentence. Third sentence.")


def test_record_like_t5():
    assert superglue.record({**RECORD, "answers": ["A", "C"]}) == [(RECORD_INPUT, "A"),
                                                                   (RECORD_INPUT, "C")]
    assert superglue.record({**RECORD, "answers": []}) == [(RECORD_INPUT, "<unk>")]


def test_wsc_like_t5():
    example = {"text": "This is a test sentence .", "span1_text": "test", "span1_index": 3,
               "span2_text": "This", "span2_index": 0, "label": 0}
    assert superglue.wsc(example) == ("wsc text: # This # is a * test * sentence .", "False")
    with pytest.raises(ValueError, match="not at word"):
        superglue.wsc({**example, "span1_index": 2})


def test_wsc_simple_like_t5():
    example = {"text": "Mitchell asked Tom if he could lend some money.", "span1_text": "Tom",
               "span2_text": "he", "span2_index": 4}
    assert superglue.wsc_simple(example) == \
        ("wsc: Mitchell asked Tom if *he* could lend some money.", "Tom")
    with pytest.raises(ValueError, match="not the pronoun"):
        superglue.wsc_simple({**example, "span2_index": 3})


@pytest.mark.parametrize("sentence, pronoun, candidates, label, expected", [
    ("Mitchell asked Tom if he could lend some money.", "he", ["Mitchell", "Tom"], 1,
     ("wsc: Mitchell asked Tom if *he* could lend some money.", "Tom")),
    ("Bill beat Tom at Scrabble because that newbie had all the luck.", "that newbie",
     ["Bill", "Tom"], 0,
     ("wsc: Bill beat Tom at Scrabble because *that newbie* had all the luck.", "Bill")),
    ("Carl borrowed a book from Richard, but the book was unreadable to him.", "him",
     ["Carl", "Richard"], 0,
     ("wsc: Carl borrowed a book from Richard, but the book was unreadable to *him*.", "Carl")),
])
def test_dpr_simple_like_t5(sentence, pronoun, candidates, label, expected):
    example = {"sentence": sentence, "pronoun": pronoun, "candidates": candidates,
               "label": label}
    assert superglue.dpr_simple(example) == expected


@pytest.mark.parametrize("premise, hypothesis, expected", [
    ("Lily spoke to Donna breaking her silence.", "Lily spoke to Donna breaking Donna's silence.",
     ("wsc: Lily spoke to Donna breaking *her* silence.", "Donna")),
    ("The fish ate the worm. It was tasty.", "The worm was tasty.",
     ("wsc: The fish ate the worm. *It* was tasty.", "The worm")),
    ("Edward dropped adhesive tape onto his window sill, and when he pulled the tape off, some "
     "of the glue was stuck on it.", "Some of the glue was stuck on the window sill.",
     ("wsc: Edward dropped adhesive tape onto his window sill, and when he pulled the tape off, "
      "some of the glue was stuck on *it* .", "the window sill")),
    ("Al stole Bob's wallet and car, and then he was driving it really fast to get away.",
     "He was driving the car really fast to get away.",
     ("wsc: Al stole Bob's wallet and car, and then he was driving *it* really fast to get "
      "away.", "the car")),
])
def test_wnli_simple_like_t5(premise, hypothesis, expected):
    assert superglue.wnli_simple(premise, hypothesis) == expected


def test_wnli_simple_without_pronoun_is_an_error():
    with pytest.raises(ValueError, match="no pronoun"):
        superglue.wnli_simple("The fish ate the worm.", "The worm was eaten.")
