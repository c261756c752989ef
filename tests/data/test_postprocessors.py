"""Postprocessors with the expected values of the t5 library's postprocessors_test.py."""
import pytest

from minit5.data import postprocessors as post


def test_string_to_float():
    assert post.string_to_float("10") == 10.0
    assert post.string_to_float("10.") == 10.0
    assert post.string_to_float("asdf") == -1.0
    assert post.string_to_float("asdf", -2.0) == -2.0


def test_lower_text():
    assert post.lower_text("TeST") == "test"


def test_string_label_to_class_id():
    classes = ["one", "two"]
    assert post.string_label_to_class_id("one", classes) == 0
    assert post.string_label_to_class_id("two", classes) == 1
    assert post.string_label_to_class_id("foo", classes) == -1
    assert post.string_label_to_class_id("foo", classes, 2) == 2


def test_multirc():
    example = {"idx/question": 0, "idx/answer": 1}
    assert post.multirc("False", example=example, is_target=True) == {"group": 0, "value": 0}
    assert post.multirc("True") == {"value": 1}


def test_record():
    example = {"answers": [b"a1", b"a2"], "idx/passage": 1, "idx/query": 2}
    assert post.record("answer", example=example, is_target=True) == \
        {"value": ["a1", "a2"], "group": (1, 2)}
    assert post.record("answer") == {"value": "answer"}


def test_qa():
    assert post.qa("answer", example={"answers": [b"a1", b"a2"]}, is_target=True) == ["a1", "a2"]
    assert post.qa("answer") == "answer"


@pytest.mark.parametrize("prediction, referent, expected", [
    ("potato", b"turnip", 0), ("turnip", b"turnip", 1), ("the cat", b"cat", 1),
    ("Bob's hat", b"Bob", 0), ("Bob's hat", b"Bob's hat", 1), ("potato", b"Potato", 1),
    ("a potato", b"my potato", 1), ("fuzzy bunny", b"fuzzy hungry bunny", 1),
    ("", b"cat", -1), ("a this", b"cat", -1),
])
def test_wsc_simple(prediction, referent, expected):
    assert post.wsc_simple(prediction, example={"targets_pretokenized": referent}) == expected


def test_wsc_simple_targets_and_errors():
    assert post.wsc_simple("blah", example={"label": 1}, is_target=True) == 1
    assert post.wsc_simple("blah", example={"label": -1}, is_target=True) == -1
    with pytest.raises(KeyError, match="targets_pretokenized"):
        post.wsc_simple("cat", example={})
